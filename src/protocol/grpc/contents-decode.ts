/**
 * An input's typed InferTensorContents, decoded straight from the message bytes into typed storage
 * (request-scan.ts found and counted them): one typed array per field, BYTES into one buffer with
 * offsets. Replaces protobufjs for these fields on the server, which built a JS value per element
 * (a Buffer per bytes_contents element, a string per 64-bit value).
 */
import { BytesData } from '../../core/tensor.js';
import { BOOL, BYTES, FP32, FP64, INT, INT64, UINT, UINT64, type ScannedInput } from './request-scan.js';
import { LEN, malformed, WireReader } from './wire-reader.js';

/** Typed contents as the server decodes them; each field is present when the message had it. */
export interface DecodedContents {
  bool_contents?: Uint8Array;
  int_contents?: Int32Array;
  int64_contents?: BigInt64Array;
  uint_contents?: Uint32Array;
  uint64_contents?: BigUint64Array;
  fp32_contents?: Float32Array;
  fp64_contents?: Float64Array;
  bytes_contents?: BytesData;
}

/** Low and high 32 bits of the last varint read (no object per value). */
let lo = 0;
let hi = 0;

/** Reads a varint of up to 10 bytes at `pos` into lo/hi; returns the position after it. */
function varint64(buf: Uint8Array, pos: number, end: number): number {
  lo = 0;
  hi = 0;
  for (let i = 0; i < 10; i++) {
    if (pos >= end) throw malformed('a varint runs past its field');
    const b = buf[pos++]!;
    const bits = b & 0x7f;
    if (i < 4) lo |= bits << (7 * i);
    else if (i === 4) {
      lo |= bits << 28;
      hi |= bits >>> 4;
    } else hi |= bits << (7 * i - 32);
    if (b < 0x80) {
      lo >>>= 0;
      hi >>>= 0;
      return pos;
    }
  }
  throw malformed('a varint is longer than 10 bytes');
}

/** Storage for each field the input has, sized by the scan's counts. */
function allocate(input: ScannedInput): { out: DecodedContents; words: Map<number, Uint32Array> } {
  const c = input.counts;
  const out: DecodedContents = {};
  const words = new Map<number, Uint32Array>();
  if (c[BOOL]) out.bool_contents = new Uint8Array(c[BOOL]);
  if (c[INT]) out.int_contents = new Int32Array(c[INT]);
  if (c[UINT]) out.uint_contents = new Uint32Array(c[UINT]);
  if (c[INT64]) {
    out.int64_contents = new BigInt64Array(c[INT64]);
    words.set(INT64, new Uint32Array(out.int64_contents.buffer));
  }
  if (c[UINT64]) {
    out.uint64_contents = new BigUint64Array(c[UINT64]);
    words.set(UINT64, new Uint32Array(out.uint64_contents.buffer));
  }
  if (c[FP32]) out.fp32_contents = new Float32Array(c[FP32]);
  if (c[FP64]) out.fp64_contents = new Float64Array(c[FP64]);
  if (c[BYTES])
    out.bytes_contents = new BytesData(new Uint8Array(input.bytes), new Uint32Array(c[BYTES] + 1));
  return { out, words };
}

export function decodeContents(buf: Uint8Array, input: ScannedInput): DecodedContents {
  const { out, words } = allocate(input);
  // Next element to write, per field.
  const at = new Array<number>(9).fill(0);
  let byteAt = 0;
  const put = (field: number, pos: number, end: number): number => {
    const i = at[field]!;
    at[field] = i + 1;
    switch (field) {
      case FP32:
        new Uint8Array(out.fp32_contents!.buffer, i * 4, 4).set(buf.subarray(pos, pos + 4));
        return pos + 4;
      case FP64:
        new Uint8Array(out.fp64_contents!.buffer, i * 8, 8).set(buf.subarray(pos, pos + 8));
        return pos + 8;
    }
    const next = varint64(buf, pos, end);
    switch (field) {
      case BOOL:
        out.bool_contents![i] = lo !== 0 || hi !== 0 ? 1 : 0;
        break;
      case INT:
        out.int_contents![i] = lo | 0; // int32 keeps the low 32 bits of the sign-extended varint
        break;
      case UINT:
        out.uint_contents![i] = lo;
        break;
      default: {
        const w = words.get(field)!; // little-endian words of a 64-bit element
        w[2 * i] = lo;
        w[2 * i + 1] = hi;
      }
    }
    return next;
  };
  for (let k = 0; k < input.ranges.length; k += 2) {
    const r = new WireReader(buf, input.ranges[k]!, input.ranges[k + 1]!);
    while (!r.done) {
      const tag = r.varint32();
      const field = tag >>> 3;
      const wt = tag & 7;
      if (field === BYTES) {
        const [s, e] = r.len();
        const d = out.bytes_contents!;
        d.bytes.set(buf.subarray(s, e), byteAt);
        byteAt += e - s;
        d.offsets[at[BYTES]! + 1] = byteAt;
        at[BYTES] = at[BYTES]! + 1;
      } else if (field >= BOOL && field <= FP64) {
        if (wt === LEN) {
          const [s, e] = r.len();
          if (field === FP32 || field === FP64) {
            // Packed floats are the little-endian values themselves: one copy.
            const size = field === FP32 ? 4 : 8;
            const target = (field === FP32 ? out.fp32_contents! : out.fp64_contents!).buffer;
            new Uint8Array(target, at[field]! * size, e - s).set(buf.subarray(s, e));
            at[field] = at[field]! + (e - s) / size;
          } else for (let pos = s; pos < e;) pos = put(field, pos, e);
        } else r.pos = put(field, r.pos, r.end);
      } else r.skip(wt);
    }
  }
  return out;
}
