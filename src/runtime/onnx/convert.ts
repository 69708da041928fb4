/**
 * Maps between inferd tensors and onnxruntime's tensor types. Runs inside the worker threads.
 */
import { BytesData, type Datatype, type NumericData, type Tensor } from '../../core/tensor.js';
import { InferdError } from '../../errors.js';

/** ORT tensor type names (onnxruntime-common Tensor.Type) per protocol datatype. */
const ORT_TYPE: Partial<Record<Datatype, string>> = {
  BOOL: 'bool',
  UINT8: 'uint8',
  UINT16: 'uint16',
  UINT32: 'uint32',
  UINT64: 'uint64',
  INT8: 'int8',
  INT16: 'int16',
  INT32: 'int32',
  INT64: 'int64',
  FP16: 'float16',
  FP32: 'float32',
  FP64: 'float64',
  BYTES: 'string',
};

const DATATYPE_OF: Record<string, Datatype> = Object.fromEntries(
  Object.entries(ORT_TYPE).map(([k, v]) => [v, k as Datatype]),
);

export function ortType(datatype: Datatype): string {
  const t = ORT_TYPE[datatype];
  if (!t)
    throw new InferdError('unsupported', `datatype ${datatype} is not supported by the ONNX Runtime backend`);
  return t;
}

/** ONNX element type strings as reported by session metadata ('float32', 'string', ...). */
export function datatypeOf(ortTypeName: string): Datatype {
  const d = DATATYPE_OF[ortTypeName];
  if (!d) throw new InferdError('unsupported', `ONNX element type '${ortTypeName}' is not supported`);
  return d;
}

/** BYTES across the thread boundary: the BytesData's buffer and offsets, transferred, not copied. */
export interface WireBytes {
  bytes: Uint8Array;
  offsets: Uint32Array;
}

/**
 * A tensor as it crosses the thread boundary. BYTES stay bytes and become the strings of ORT's
 * string tensors in the worker (wireStrings / stringsToWire), so that the main thread, which also
 * parses and answers every request, does no per-element work for them.
 */
export interface WireTensor {
  name: string;
  datatype: Datatype;
  shape: number[];
  data: NumericData | WireBytes;
}

export function toWire(t: Tensor): WireTensor {
  if (t.data instanceof BytesData) {
    return {
      name: t.name,
      datatype: t.datatype,
      shape: t.shape,
      data: { bytes: t.data.bytes, offsets: t.data.offsets },
    };
  }
  return { name: t.name, datatype: t.datatype, shape: t.shape, data: t.data };
}

export function fromWire(w: WireTensor): Tensor {
  if (w.datatype === 'BYTES') {
    const { bytes, offsets } = w.data as WireBytes;
    return { name: w.name, datatype: 'BYTES', shape: w.shape, data: new BytesData(bytes, offsets) };
  }
  return { name: w.name, datatype: w.datatype, shape: w.shape, data: w.data as NumericData };
}

/** In the worker: BYTES → the strings ORT's string tensors take (invalid UTF-8 becomes U+FFFD). */
export function wireStrings(w: WireBytes): readonly string[] {
  return new BytesData(w.bytes, w.offsets).toStrings();
}

/** In the worker: the strings of an ORT string tensor → BYTES. */
export function stringsToWire(items: readonly string[]): WireBytes {
  const d = BytesData.fromStrings(items);
  return { bytes: d.bytes, offsets: d.offsets };
}

const ownsBuffer = (a: ArrayBufferView): boolean =>
  a.byteOffset === 0 && a.byteLength === a.buffer.byteLength && a.buffer instanceof ArrayBuffer;

/** A BYTES tensor whose bytes and offsets each own their whole buffer (offsets from 0). */
function compactBytes(w: WireBytes): WireBytes {
  const { bytes, offsets } = w;
  const start = offsets[0]!;
  const end = offsets[offsets.length - 1]!;
  return {
    bytes: start === 0 && end === bytes.byteLength && ownsBuffer(bytes) ? bytes : bytes.slice(start, end),
    offsets: start === 0 && ownsBuffer(offsets) ? offsets : offsets.map((o) => o - start),
  };
}

/**
 * Buffers to transfer (not copy) to the other thread. A view that does not cover its whole buffer
 * (a slice of a request body, a Buffer pool slab, a batch split) is first compacted, because
 * transferring would detach memory that others still use, and cloning would copy the whole
 * backing store.
 */
export function transferables(tensors: WireTensor[]): ArrayBuffer[] {
  const list: ArrayBuffer[] = [];
  const add = (a: ArrayBufferView): void => {
    if (!list.includes(a.buffer as ArrayBuffer)) list.push(a.buffer as ArrayBuffer);
  };
  for (const t of tensors) {
    if (t.datatype === 'BYTES') {
      const w = compactBytes(t.data as WireBytes);
      t.data = w;
      add(w.bytes);
      add(w.offsets);
      continue;
    }
    let data = t.data as NumericData;
    if (!ownsBuffer(data)) {
      data = data.slice() as typeof data;
      t.data = data;
    }
    add(data);
  }
  return list;
}
