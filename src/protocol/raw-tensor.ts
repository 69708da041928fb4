/**
 * The raw tensor encoding shared by Triton's REST binary extension and gRPC `raw_input_contents` /
 * `raw_output_contents`: little-endian, row-major, no padding; BOOL is one byte (0 or 1); each BYTES
 * element is a 4-byte little-endian unsigned length followed by its bytes.
 *
 * Typed arrays use the host's byte order; every platform Node and ONNX Runtime ship for (x64, arm64)
 * is little-endian, which `assertLittleEndian` checks once at import.
 */
import { clip } from '../core/clip.js';
import {
  BytesData,
  elementCount,
  TYPED_ARRAY,
  type Datatype,
  type NumericData,
  type TensorData,
} from '../core/tensor.js';
import { InferdError } from '../errors.js';

function assertLittleEndian(): void {
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
    throw new Error('inferd needs a little-endian host for raw tensor data');
  }
}
assertLittleEndian();

/** Decodes one tensor's raw bytes; `name` is for messages. The result never aliases `raw`. */
export function rawToData(
  datatype: Datatype,
  shape: readonly number[],
  raw: Uint8Array,
  name: string,
): TensorData {
  const count = elementCount(shape);
  if (datatype === 'BYTES') return splitBytes(raw, count, name);
  const Ctor = TYPED_ARRAY[datatype];
  const expected = count * Ctor.BYTES_PER_ELEMENT;
  if (raw.byteLength !== expected) {
    throw new InferdError(
      'invalid_input',
      `input '${clip(name)}': raw data has ${raw.byteLength} bytes but shape [${clip(shape.join(', '))}] of ${datatype} needs ${expected}`,
    );
  }
  const data = new Ctor(copyBytes(raw, 0, raw.byteLength).buffer, 0, count);
  if (datatype === 'BOOL') {
    const b = data as Uint8Array;
    for (let i = 0; i < count; i++) {
      if (b[i]! > 1) {
        throw new InferdError(
          'invalid_input',
          `input '${clip(name)}' element ${i}: BOOL byte ${b[i]} is not 0 or 1`,
        );
      }
    }
  }
  return data;
}

/**
 * A copy in a fresh, aligned ArrayBuffer the backend may take ownership of. (Buffer#slice would
 * return a view into a shared pool, so Uint8Array#slice semantics are spelled out here.)
 */
function copyBytes(raw: Uint8Array, start: number, end: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(end - start);
  out.set(raw.subarray(start, end));
  return out;
}

/**
 * Splits length-prefixed BYTES elements into one buffer with offsets. A first pass walks the
 * prefixes without allocating and stops as soon as the count passes the shape's; only a request
 * whose element count and sizes are right gets its storage allocated (4 bytes per element).
 */
function splitBytes(raw: Uint8Array, count: number, name: string): BytesData {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  let n = 0;
  let off = 0;
  let total = 0;
  while (off < raw.byteLength) {
    if (n === count) {
      throw new InferdError(
        'invalid_input',
        `input '${clip(name)}': raw data holds more than the ${count} BYTES elements its shape needs`,
      );
    }
    if (off + 4 > raw.byteLength) {
      throw new InferdError(
        'invalid_input',
        `input '${clip(name)}': BYTES element ${n} has a truncated 4-byte length`,
      );
    }
    const len = view.getUint32(off, true);
    off += 4;
    if (len > raw.byteLength - off) {
      throw new InferdError(
        'invalid_input',
        `input '${clip(name)}': BYTES element ${n} declares ${len} bytes but only ${raw.byteLength - off} remain`,
      );
    }
    off += len;
    total += len;
    n += 1;
  }
  if (n !== count) {
    throw new InferdError(
      'invalid_input',
      `input '${clip(name)}': raw data holds ${n} BYTES elements but its shape needs ${count}`,
    );
  }
  const bytes = new Uint8Array(total);
  const offsets = new Uint32Array(count + 1);
  off = 0;
  let at = 0;
  for (let i = 0; i < count; i++) {
    const len = view.getUint32(off, true);
    off += 4;
    // Short elements byte by byte: a subarray per element would be an object per element again.
    if (len > 32) bytes.set(raw.subarray(off, off + len), at);
    else for (let k = 0; k < len; k++) bytes[at + k] = raw[off + k]!;
    off += len;
    at += len;
    offsets[i + 1] = at;
  }
  return new BytesData(bytes, offsets);
}

/** Encodes tensor storage as raw bytes; fixed-size types are a view, not a copy. */
export function dataToRaw(datatype: Datatype, data: TensorData): Uint8Array {
  if (datatype !== 'BYTES') {
    const t = data as NumericData;
    return new Uint8Array(t.buffer, t.byteOffset, t.byteLength);
  }
  const items = data as BytesData;
  const out = Buffer.allocUnsafe(4 * items.length + items.byteLength);
  let off = 0;
  for (let i = 0; i < items.length; i++) {
    const size = items.sizeOf(i);
    out.writeUInt32LE(size, off);
    out.set(items.at(i), off + 4);
    off += 4 + size;
  }
  return out;
}
