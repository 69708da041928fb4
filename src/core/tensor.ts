/**
 * The internal tensor model shared by every transport, the scheduler and every backend.
 * Protocol code decodes into these types and encodes from them; nothing inward knows JSON or protobuf.
 */
import { BytesData } from './bytes-data.js';

export { BytesData };

export const DATATYPES = [
  'BOOL',
  'UINT8',
  'UINT16',
  'UINT32',
  'UINT64',
  'INT8',
  'INT16',
  'INT32',
  'INT64',
  'FP16',
  'FP32',
  'FP64',
  'BF16',
  'BYTES',
] as const;

export type Datatype = (typeof DATATYPES)[number];

/**
 * Element storage per datatype. FP16 and BF16 keep their raw 16-bit patterns (Uint16Array);
 * BOOL is one byte per element (0 or 1); BYTES is one buffer with offsets (bytes-data.ts).
 */
export type TensorData =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | BigUint64Array
  | BigInt64Array
  | Float32Array
  | Float64Array
  | BytesData;

/** Storage of every datatype but BYTES. */
export type NumericData = Exclude<TensorData, BytesData>;

export type ParameterValue = string | number | boolean;
export type Parameters = Record<string, ParameterValue>;

export interface Tensor {
  name: string;
  datatype: Datatype;
  /** Row-major; for BYTES the product of dims equals data.length. */
  shape: number[];
  data: TensorData;
  parameters?: Parameters;
}

interface RequestedOutput {
  name: string;
  parameters?: Parameters;
}

export interface InferenceRequest {
  id?: string;
  modelName: string;
  /** Version number as a string, as the protocol carries it; undefined = the model's default. */
  modelVersion?: string;
  parameters?: Parameters;
  inputs: Tensor[];
  /** Undefined = every output of the model. */
  outputs?: RequestedOutput[];
  /** Absolute deadline in ms on the performance.now() clock; undefined = the model's default timeout. */
  deadlineMs?: number;
  /** Higher is served first (Triton's priority levels, with 0 = default). */
  priority?: number;
  /** Aborted when the client goes away; queued work is then dropped. */
  signal?: AbortSignal;
}

export interface InferenceResponse {
  modelName: string;
  modelVersion: string;
  id?: string;
  parameters?: Parameters;
  outputs: Tensor[];
}

/** A typed-array constructor per fixed-size datatype. */
export type TypedArrayCtor =
  | Uint8ArrayConstructor
  | Int8ArrayConstructor
  | Uint16ArrayConstructor
  | Int16ArrayConstructor
  | Uint32ArrayConstructor
  | Int32ArrayConstructor
  | BigUint64ArrayConstructor
  | BigInt64ArrayConstructor
  | Float32ArrayConstructor
  | Float64ArrayConstructor;

export const TYPED_ARRAY: Record<Exclude<Datatype, 'BYTES'>, TypedArrayCtor> = {
  BOOL: Uint8Array,
  UINT8: Uint8Array,
  UINT16: Uint16Array,
  UINT32: Uint32Array,
  UINT64: BigUint64Array,
  INT8: Int8Array,
  INT16: Int16Array,
  INT32: Int32Array,
  INT64: BigInt64Array,
  FP16: Uint16Array,
  FP32: Float32Array,
  FP64: Float64Array,
  BF16: Uint16Array,
};

/** Bytes per element; BYTES has no fixed size. */
export function elementSize(datatype: Datatype): number | undefined {
  return datatype === 'BYTES' ? undefined : TYPED_ARRAY[datatype].BYTES_PER_ELEMENT;
}

export function isDatatype(s: unknown): s is Datatype {
  return typeof s === 'string' && (DATATYPES as readonly string[]).includes(s);
}

export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
