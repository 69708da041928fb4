/**
 * Writes ONNX models from TypeScript (onnx-proto's protobufjs classes). Used by the tests to generate
 * fixture models, by the bench setup, and by the training pipeline to export trained models.
 */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
type OnnxModelProto = onnxProto.onnx.IModelProto;

/** ONNX TensorProto.DataType values. */
export const OnnxType = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
  BFLOAT16: 16,
} as const;
export type OnnxTypeName = keyof typeof OnnxType;

/** A dimension: a fixed size, or a symbolic name / -1 for a dynamic one. */
type Dim = number | string;

interface ValueInfo {
  name: string;
  type: OnnxTypeName;
  shape: Dim[];
}

type AttrValue = number | string | number[] | string[] | Float32Array | { tensor: InitTensor };

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  domain?: string;
  /** Integer-valued numbers become INT attributes unless listed in `floatAttrs`. */
  attrs?: Record<string, AttrValue>;
  floatAttrs?: string[];
}

export interface InitTensor {
  name: string;
  type: OnnxTypeName;
  dims: number[];
  /** Numbers for numeric types (bigint allowed for INT64), strings for STRING. */
  values: ArrayLike<number> | bigint[] | string[];
}

export interface GraphSpec {
  name?: string;
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  nodes: NodeSpec[];
  initializers?: InitTensor[];
  /** Default opset 17; extra domains (e.g. ai.onnx.ml) may be added. */
  opset?: number;
  extraOpsets?: Record<string, number>;
  producer?: string;
  docString?: string;
  metadata?: Record<string, string>;
}

const utf8 = new TextEncoder();

function valueInfo(v: ValueInfo): onnxProto.onnx.IValueInfoProto {
  return {
    name: v.name,
    type: {
      tensorType: {
        elemType: OnnxType[v.type],
        shape: {
          dim: v.shape.map((d) =>
            typeof d === 'number' && d >= 0 ? { dimValue: d } : { dimParam: typeof d === 'string' ? d : 'N' },
          ),
        },
      },
    },
  };
}

function tensorProto(t: InitTensor): onnxProto.onnx.ITensorProto {
  const base: onnxProto.onnx.ITensorProto = { name: t.name, dataType: OnnxType[t.type], dims: t.dims };
  const vals = t.values;
  switch (t.type) {
    case 'FLOAT':
      return { ...base, rawData: new Uint8Array(Float32Array.from(vals as ArrayLike<number>).buffer) };
    case 'DOUBLE':
      return { ...base, rawData: new Uint8Array(Float64Array.from(vals as ArrayLike<number>).buffer) };
    case 'INT64':
      return {
        ...base,
        rawData: new Uint8Array(
          BigInt64Array.from(Array.from(vals as ArrayLike<number | bigint>, (v) => BigInt(v))).buffer,
        ),
      };
    case 'INT32':
      return { ...base, rawData: new Uint8Array(Int32Array.from(vals as ArrayLike<number>).buffer) };
    case 'UINT8':
    case 'BOOL':
      return { ...base, rawData: Uint8Array.from(vals as ArrayLike<number>) };
    case 'INT8':
      return { ...base, rawData: new Uint8Array(Int8Array.from(vals as ArrayLike<number>).buffer) };
    case 'INT16':
      return { ...base, rawData: new Uint8Array(Int16Array.from(vals as ArrayLike<number>).buffer) };
    case 'UINT16':
    case 'FLOAT16':
    case 'BFLOAT16':
      return { ...base, rawData: new Uint8Array(Uint16Array.from(vals as ArrayLike<number>).buffer) };
    case 'UINT32':
      return { ...base, rawData: new Uint8Array(Uint32Array.from(vals as ArrayLike<number>).buffer) };
    case 'UINT64':
      return {
        ...base,
        rawData: new Uint8Array(
          BigUint64Array.from(Array.from(vals as ArrayLike<number | bigint>, (v) => BigInt(v))).buffer,
        ),
      };
    case 'STRING':
      return { ...base, stringData: (vals as string[]).map((s) => utf8.encode(s)) };
  }
}

function attribute(name: string, value: AttrValue, asFloat: boolean): onnxProto.onnx.IAttributeProto {
  const A = onnx.AttributeProto.AttributeType;
  if (typeof value === 'string') return { name, type: A.STRING, s: utf8.encode(value) };
  if (typeof value === 'number') {
    return asFloat || !Number.isInteger(value)
      ? { name, type: A.FLOAT, f: value }
      : { name, type: A.INT, i: value };
  }
  if (value instanceof Float32Array) return { name, type: A.FLOATS, floats: Array.from(value) };
  if (Array.isArray(value)) {
    if (value.length > 0 && typeof value[0] === 'string') {
      return { name, type: A.STRINGS, strings: (value as string[]).map((s) => utf8.encode(s)) };
    }
    const nums = value as number[];
    return asFloat || nums.some((v) => !Number.isInteger(v))
      ? { name, type: A.FLOATS, floats: nums }
      : { name, type: A.INTS, ints: nums };
  }
  return { name, type: A.TENSOR, t: tensorProto(value.tensor) };
}

function buildModelProto(spec: GraphSpec): OnnxModelProto {
  const opsets = [{ domain: '', version: spec.opset ?? 17 }];
  for (const [domain, version] of Object.entries(spec.extraOpsets ?? {})) opsets.push({ domain, version });
  return {
    irVersion: 8,
    producerName: spec.producer ?? 'inferd',
    producerVersion: '0.1.0',
    docString: spec.docString,
    opsetImport: opsets,
    metadataProps: Object.entries(spec.metadata ?? {}).map(([key, value]) => ({ key, value })),
    graph: {
      name: spec.name ?? 'graph',
      input: spec.inputs.map(valueInfo),
      output: spec.outputs.map(valueInfo),
      initializer: (spec.initializers ?? []).map(tensorProto),
      node: spec.nodes.map((n, i) => ({
        opType: n.op,
        name: n.name ?? `${n.op}_${i}`,
        domain: n.domain ?? '',
        input: n.inputs,
        output: n.outputs,
        attribute: Object.entries(n.attrs ?? {}).map(([k, v]) =>
          attribute(k, v, n.floatAttrs?.includes(k) ?? false),
        ),
      })),
    },
  };
}

/** Serialises a graph spec to ONNX bytes. Deterministic: the same spec gives the same bytes. */
/**
 * Encodes the plain object directly: protobufjs' `fromObject` leaves a hole for every empty `bytes`
 * element (an empty string in a STRING tensor or attribute), and `encode` then throws on the hole.
 */
export function buildModel(spec: GraphSpec): Uint8Array {
  return onnx.ModelProto.encode(buildModelProto(spec)).finish();
}

/** Parses ONNX bytes (for inspecting models without a runtime). */
export function decodeModel(bytes: Uint8Array): onnxProto.onnx.ModelProto {
  return onnx.ModelProto.decode(bytes);
}
