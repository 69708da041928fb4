/**
 * Conversions between protocol element values (JSON numbers, booleans, strings) and tensor storage,
 * with range checks that name the input and element. Shared by every transport that carries typed
 * values (REST JSON, gRPC `contents`).
 */
import { clip } from '../core/clip.js';
import { fromBFloat16, fromHalf, toBFloat16, toHalf } from '../core/half.js';
import { BytesData, TYPED_ARRAY, type Datatype, type TensorData } from '../core/tensor.js';
import { InferdError } from '../errors.js';
import { base64Size } from './base64.js';

const INT_RANGE: Partial<Record<Datatype, [number, number]>> = {
  UINT8: [0, 0xff],
  UINT16: [0, 0xffff],
  UINT32: [0, 0xffffffff],
  INT8: [-0x80, 0x7f],
  INT16: [-0x8000, 0x7fff],
  INT32: [-0x80000000, 0x7fffffff],
};

function bad(input: string, index: number, value: unknown, what: string): InferdError {
  const shown = JSON.stringify(value)?.slice(0, 40) ?? String(value);
  return new InferdError('invalid_input', `input '${clip(input)}' element ${index}: ${shown} ${what}`);
}

function toFloat(v: unknown, input: string, i: number): number {
  if (typeof v === 'number') return v;
  if (v === 'NaN' || v === 'nan') return NaN;
  if (v === 'Infinity' || v === 'inf') return Infinity;
  if (v === '-Infinity' || v === '-inf') return -Infinity;
  throw bad(input, i, v, 'is not a number');
}

function toBigInt(v: unknown, input: string, i: number, unsigned: boolean): bigint {
  let b: bigint;
  if (typeof v === 'number' && Number.isInteger(v)) b = BigInt(v);
  else if (typeof v === 'string' && /^-?\d+$/.test(v)) b = BigInt(v);
  else throw bad(input, i, v, 'is not an integer');
  if (unsigned ? b < 0n || b > 0xffffffffffffffffn : b < -(2n ** 63n) || b >= 2n ** 63n) {
    throw bad(input, i, v, `is out of range for ${unsigned ? 'UINT64' : 'INT64'}`);
  }
  return b;
}

/** JSON strings → one BYTES buffer: UTF-8 text, or base64 checked strictly (RFC 4648 §4, padded). */
function stringsToBytes(values: ArrayLike<unknown>, input: string, base64: boolean): BytesData {
  const n = values.length;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (typeof v !== 'string') throw bad(input, i, v, 'is not a string (BYTES elements are strings in JSON)');
  }
  const strings = Array.isArray(values) ? (values as string[]) : Array.from(values as ArrayLike<string>);
  if (!base64) return BytesData.fromStrings(strings);
  const offsets = new Uint32Array(n + 1);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const size = base64Size(strings[i]!);
    if (size < 0) {
      throw bad(
        input,
        i,
        strings[i],
        'is not valid base64 (content_type base64: the standard alphabet A-Z a-z 0-9 + /, padded with = to a multiple of 4 characters)',
      );
    }
    total += size;
    if (total > 0xffffffff)
      throw new InferdError('invalid_input', `input '${clip(input)}' holds more than 4 GiB`);
    offsets[i + 1] = total;
  }
  const bytes = Buffer.allocUnsafeSlow(total);
  for (let i = 0; i < n; i++) bytes.write(strings[i]!, offsets[i]!, 'base64');
  return new BytesData(new Uint8Array(bytes.buffer, 0, total), offsets);
}

/**
 * Flat element values → tensor storage. `base64` applies to BYTES (MLServer's content_type codec).
 * Values may be a JS array (JSON) or a typed array (gRPC contents decoded by grpc/contents-scan.ts).
 */
export function valuesToData(
  datatype: Datatype,
  values: ArrayLike<unknown>,
  input: string,
  base64 = false,
): TensorData {
  const n = values.length;
  switch (datatype) {
    case 'BYTES':
      return stringsToBytes(values, input, base64);
    case 'BOOL': {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (v === true || v === 1) out[i] = 1;
        else if (v === false || v === 0) out[i] = 0;
        else throw bad(input, i, v, 'is not a boolean');
      }
      return out;
    }
    case 'FP16':
    case 'BF16': {
      const out = new Uint16Array(n);
      const conv = datatype === 'FP16' ? toHalf : toBFloat16;
      for (let i = 0; i < n; i++) out[i] = conv(toFloat(values[i], input, i));
      return out;
    }
    case 'FP32':
    case 'FP64': {
      const out = new TYPED_ARRAY[datatype](n);
      for (let i = 0; i < n; i++) out[i] = toFloat(values[i], input, i);
      return out;
    }
    case 'INT64':
    case 'UINT64': {
      const out = new TYPED_ARRAY[datatype](n);
      for (let i = 0; i < n; i++) out[i] = toBigInt(values[i], input, i, datatype === 'UINT64');
      return out;
    }
    default: {
      const [lo, hi] = INT_RANGE[datatype]!;
      const out = new TYPED_ARRAY[datatype](n);
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (typeof v !== 'number' || !Number.isInteger(v)) throw bad(input, i, v, 'is not an integer');
        if (v < lo || v > hi) throw bad(input, i, v, `is out of range for ${datatype} [${lo}, ${hi}]`);
        out[i] = v;
      }
      return out;
    }
  }
}

/**
 * JSON has no NaN or Infinity (JSON.stringify writes null): floats that are not finite are written
 * as the strings the decoder accepts ("NaN", "Infinity", "-Infinity"; docs/protocols.md).
 */
function nameNonFinite(out: Array<number | string>): Array<number | string> {
  for (let i = 0; i < out.length; i++) {
    const v = out[i] as number;
    // v - v is 0 for every finite number, NaN for NaN and ±Infinity.
    if (v - v !== 0) out[i] = v !== v ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
  }
  return out;
}

/**
 * Tensor storage → JSON-ready values. 64-bit integers beyond 2^53 lose precision, as in any JSON.
 * The result may be shared with the tensor (BYTES text): callers must not change it.
 */
export function dataToValues(datatype: Datatype, data: TensorData): ReadonlyArray<number | boolean | string> {
  switch (datatype) {
    case 'BYTES':
      return (data as BytesData).toStrings();
    case 'BOOL':
      return Array.from(data as Uint8Array, (v) => v !== 0);
    case 'FP16':
      return nameNonFinite(Array.from(data as Uint16Array, fromHalf));
    case 'BF16':
      return nameNonFinite(Array.from(data as Uint16Array, fromBFloat16));
    case 'FP32':
    case 'FP64':
      return nameNonFinite(Array.from(data as Float32Array));
    case 'INT64':
    case 'UINT64':
      return Array.from(data as BigInt64Array, (v) => Number(v));
    default:
      return Array.from(data as Int32Array);
  }
}
