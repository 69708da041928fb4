/**
 * A small editable view of a decoded ONNX graph for rewrite passes: who produces and who consumes
 * each value, and float constants read from / written to either initializers or `Constant` nodes
 * (paddle2onnx exports, like the PP-OCR models, keep every weight in a `Constant` node).
 */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
export type NodeProto = onnxProto.onnx.INodeProto;
export type TensorProto = onnxProto.onnx.ITensorProto;
export type ModelProto = onnxProto.onnx.ModelProto;

const FLOAT = 1;
const UINT8 = 2;
const INT8 = 3;
const INT32 = 6;
const INT64 = 7;

/** Reads a FLOAT tensor's values (raw_data little-endian or float_data); undefined otherwise. */
function floatValues(t: TensorProto): Float32Array | undefined {
  if (t.dataType !== FLOAT) return undefined;
  if (t.rawData && t.rawData.byteLength > 0) {
    const copy = new Uint8Array(t.rawData); // aligned copy: raw_data may sit at any offset
    return new Float32Array(copy.buffer, 0, copy.byteLength / 4);
  }
  return Float32Array.from(t.floatData ?? []);
}

function floatTensor(name: string, dims: number[], values: Float32Array): TensorProto {
  return {
    name,
    dataType: FLOAT,
    dims,
    rawData: new Uint8Array(values.buffer, values.byteOffset, values.byteLength),
  };
}

function dimsOf(t: TensorProto): number[] {
  return (t.dims ?? []).map(Number);
}

export function attr(node: NodeProto, name: string): onnxProto.onnx.IAttributeProto | undefined {
  return node.attribute?.find((a) => a.name === name);
}

export function intsAttr(node: NodeProto, name: string): number[] | undefined {
  const a = attr(node, name);
  return a ? (a.ints ?? []).map(Number) : undefined;
}

export class GraphView {
  readonly model: ModelProto;
  private producers = new Map<string, NodeProto>();
  private consumers = new Map<string, NodeProto[]>();
  private initializers = new Map<string, TensorProto>();
  private outputs = new Set<string>();
  private removed = new Set<NodeProto>();
  private fresh = 0;

  constructor(bytes: Uint8Array) {
    this.model = onnx.ModelProto.decode(bytes);
    this.reindex();
  }

  /** The decoded graph (decoding always yields one, possibly empty). */
  get graph(): onnxProto.onnx.GraphProto {
    return this.model.graph as onnxProto.onnx.GraphProto;
  }

  get nodes(): NodeProto[] {
    return this.graph.node;
  }

  opset(domain = ''): number {
    const o = this.model.opsetImport.find((i) => (i.domain ?? '') === domain);
    return o ? Number(o.version) : 0;
  }

  reindex(): void {
    const g = this.graph;
    g.node = g.node.filter((n) => !this.removed.has(n));
    this.removed.clear();
    this.producers.clear();
    this.consumers.clear();
    this.initializers = new Map(g.initializer.map((t) => [t.name as string, t]));
    this.outputs = new Set(g.output.map((o) => o.name as string));
    for (const n of g.node) {
      for (const o of n.output ?? []) this.producers.set(o, n);
      for (const i of n.input ?? []) {
        if (!i) continue;
        const list = this.consumers.get(i) ?? [];
        list.push(n);
        this.consumers.set(i, list);
      }
    }
  }

  producer(value: string): NodeProto | undefined {
    const n = this.producers.get(value);
    return n && !this.removed.has(n) ? n : undefined;
  }

  consumersOf(value: string): NodeProto[] {
    return (this.consumers.get(value) ?? []).filter((n) => !this.removed.has(n));
  }

  /** The only live consumer of `value`, when it is not also a graph output. */
  soleConsumer(value: string): NodeProto | undefined {
    if (this.outputs.has(value)) return undefined;
    const list = this.consumersOf(value);
    return list.length === 1 ? list[0] : undefined;
  }

  /** A float constant's value and dims (initializer or Constant node), else undefined. */
  constant(value: string): { dims: number[]; values: Float32Array } | undefined {
    const init = this.initializers.get(value);
    const node = init ? undefined : this.producer(value);
    const t =
      init ?? (node?.opType === 'Constant' && attr(node, 'value')?.t ? attr(node, 'value')?.t : undefined);
    if (!t) return undefined;
    const values = floatValues(t);
    return values ? { dims: dimsOf(t), values } : undefined;
  }

  /** A scalar (or one-element) float constant's value. */
  scalar(value: string): number | undefined {
    const c = this.constant(value);
    return c && c.values.length === 1 ? c.values[0] : undefined;
  }

  /** Adds a new float initializer and returns its (unique) name. */
  addConstant(hint: string, dims: number[], values: Float32Array): string {
    const name = `${hint}__opt${this.fresh++}`;
    const t = floatTensor(name, dims, values);
    this.graph.initializer.push(t as onnxProto.onnx.TensorProto);
    this.initializers.set(name, t);
    return name;
  }

  /** Adds a new INT8 initializer and returns its (unique) name. */
  addInt8(hint: string, dims: number[], values: Int8Array): string {
    const name = `${hint}__opt${this.fresh++}`;
    const t = {
      name,
      dataType: INT8,
      dims,
      rawData: new Uint8Array(values.buffer, values.byteOffset, values.byteLength),
    };
    this.graph.initializer.push(t as onnxProto.onnx.TensorProto);
    this.initializers.set(name, t);
    return name;
  }

  /** Adds a new UINT8 initializer (dims [] for a scalar) and returns its (unique) name. */
  addUint8(hint: string, dims: number[], values: Uint8Array): string {
    return this.addRaw(hint, UINT8, dims, values);
  }

  /** Adds a new INT32 initializer and returns its (unique) name. */
  addInt32(hint: string, dims: number[], values: Int32Array): string {
    return this.addRaw(
      hint,
      INT32,
      dims,
      new Uint8Array(values.buffer, values.byteOffset, values.byteLength),
    );
  }

  private addRaw(hint: string, dataType: number, dims: number[], rawData: Uint8Array): string {
    const name = `${hint}__opt${this.fresh++}`;
    const t = { name, dataType, dims, rawData };
    this.graph.initializer.push(t as onnxProto.onnx.TensorProto);
    this.initializers.set(name, t);
    return name;
  }

  /** Adds a new 1-D INT64 initializer and returns its (unique) name. */
  addInt64(hint: string, values: number[]): string {
    const name = `${hint}__opt${this.fresh++}`;
    const data = BigInt64Array.from(values.map((v) => BigInt(v)));
    const t = { name, dataType: INT64, dims: [values.length], rawData: new Uint8Array(data.buffer) };
    this.graph.initializer.push(t as onnxProto.onnx.TensorProto);
    this.initializers.set(name, t);
    return name;
  }

  /** A name no value in the graph has yet. */
  freshName(hint: string): string {
    return `${hint}__opt${this.fresh++}`;
  }

  /** Declares an operator set the rewritten graph uses (kept if already at least `version`). */
  useOpset(domain: string, version: number): void {
    const o = this.model.opsetImport.find((i) => (i.domain ?? '') === domain);
    if (!o) this.model.opsetImport.push({ domain, version });
    else if (Number(o.version) < version) o.version = version;
  }

  remove(node: NodeProto): void {
    this.removed.add(node);
  }

  isOutput(value: string): boolean {
    return this.outputs.has(value);
  }

  /** Orders nodes so each comes after the producers of its inputs (stable for the rest). */
  sortTopologically(): void {
    this.reindex();
    const graph = this.graph;
    const known = new Set<string>([
      ...graph.input.map((i) => i.name as string),
      ...graph.initializer.map((t) => t.name as string),
      '',
    ]);
    let pending = [...graph.node];
    const ordered: NodeProto[] = [];
    while (pending.length > 0) {
      const rest: NodeProto[] = [];
      for (const n of pending) {
        if ((n.input ?? []).every((x: string) => known.has(x))) {
          ordered.push(n);
          for (const o of n.output ?? []) known.add(o);
        } else rest.push(n);
      }
      if (rest.length === pending.length) {
        throw new Error(`graph has a cycle or a missing input at node '${rest[0].name ?? rest[0].opType}'`);
      }
      pending = rest;
    }
    graph.node = ordered as typeof graph.node;
  }

  encode(): Uint8Array {
    this.reindex();
    // Constant nodes no one reads any more (old weights) are dropped.
    const g = this.graph;
    g.node = g.node.filter(
      (n) =>
        n.opType !== 'Constant' ||
        (n.output ?? []).some((o) => this.consumersOf(o).length > 0 || this.isOutput(o)),
    );
    // Initializers listed as graph inputs (IR < 4 style) stay: dropping one would turn it into an
    // input the caller must feed.
    const used = new Set([...g.node.flatMap((n) => n.input ?? []), ...g.input.map((i) => i.name as string)]);
    g.initializer = g.initializer.filter(
      (t) => used.has(t.name as string) || this.isOutput(t.name as string),
    );
    return onnx.ModelProto.encode(this.model).finish();
  }
}
