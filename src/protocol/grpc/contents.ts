/**
 * InferTensorContents (the typed repeated fields) ↔ tensor storage. Each datatype has exactly one
 * field; FP16 and BF16 have none and travel only as raw contents (as the proto documents).
 * Contents come as protobufjs builds them (JS arrays: the client reading responses) or as the
 * server's request deserializer decodes them (typed arrays and BytesData, contents-decode.ts).
 */
import { clip } from '../../core/clip.js';
import { BytesData, elementCount, type Datatype, type TensorData } from '../../core/tensor.js';
import { InferdError } from '../../errors.js';
import { valuesToData } from '../tensor-values.js';
import type { DecodedContents } from './contents-decode.js';
import type { WireContents } from './wire-types.js';

/** Number of values in a contents field of either form (0 when absent). */
export function contentsLength(v: unknown): number {
  if (v instanceof BytesData || ArrayBuffer.isView(v) || Array.isArray(v))
    return (v as { length: number }).length;
  return 0;
}

/** Decoded fields that already are the datatype's storage (no conversion, no copy). */
const NATIVE: Partial<Record<Datatype, new (n: number) => unknown>> = {
  BOOL: Uint8Array,
  INT32: Int32Array,
  UINT32: Uint32Array,
  INT64: BigInt64Array,
  UINT64: BigUint64Array,
  FP32: Float32Array,
  FP64: Float64Array,
};

const CONTENTS_FIELD: Record<Datatype, keyof WireContents | undefined> = {
  BOOL: 'bool_contents',
  UINT8: 'uint_contents',
  UINT16: 'uint_contents',
  UINT32: 'uint_contents',
  UINT64: 'uint64_contents',
  INT8: 'int_contents',
  INT16: 'int_contents',
  INT32: 'int_contents',
  INT64: 'int64_contents',
  FP16: undefined,
  FP32: 'fp32_contents',
  FP64: 'fp64_contents',
  BF16: undefined,
  BYTES: 'bytes_contents',
};

/** True when the datatype has a typed field (else it must be sent raw). */
export function hasTypedContents(datatype: Datatype): boolean {
  return CONTENTS_FIELD[datatype] !== undefined;
}

export function contentsToData(
  datatype: Datatype,
  shape: number[],
  contents: WireContents | DecodedContents,
  name: string,
): TensorData {
  const field = CONTENTS_FIELD[datatype];
  if (field === undefined) {
    throw new InferdError(
      'invalid_input',
      `input '${clip(name)}': ${datatype} has no typed contents field; send it in raw_input_contents`,
    );
  }
  for (const [k, v] of Object.entries(contents)) {
    if (k !== field && contentsLength(v) > 0) {
      throw new InferdError(
        'invalid_input',
        `input '${clip(name)}' is ${datatype}: put its values in '${field}', not '${clip(k)}'`,
      );
    }
  }
  const values = contents[field];
  const n = contentsLength(values);
  const expected = elementCount(shape);
  if (n !== expected) {
    throw new InferdError(
      'invalid_input',
      `input '${clip(name)}' has ${n} elements in ${field} but its shape [${clip(shape.join(', '))}] needs ${expected}`,
    );
  }
  if (n === 0) return valuesToData(datatype, [], name);
  if (values instanceof BytesData) return values;
  if (datatype === 'BYTES') return BytesData.fromArrays(values as Uint8Array[]);
  const native = NATIVE[datatype];
  if (native && values instanceof native) return values as TensorData;
  return valuesToData(datatype, values as ArrayLike<unknown>, name);
}

export function dataToContents(datatype: Datatype, data: TensorData): WireContents {
  const field = CONTENTS_FIELD[datatype];
  if (field === undefined) throw new Error(`${datatype} has no typed contents field`);
  switch (datatype) {
    case 'BYTES':
      return { bytes_contents: (data as BytesData).toArrays() };
    case 'BOOL':
      return { bool_contents: Array.from(data as Uint8Array, (v) => v !== 0) };
    case 'INT64':
    case 'UINT64':
      // Decimal strings keep all 64 bits (protobufjs parses them with Long).
      return { [field]: Array.from(data as BigInt64Array, (v) => v.toString()) };
    default:
      return { [field]: Array.from(data as Float32Array) };
  }
}
