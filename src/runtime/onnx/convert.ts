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

/**
 * A tensor as it crosses the thread boundary: BYTES travel as strings for ORT's string tensors (the
 * text is kept on the BytesData both ways, so each element is transcoded once per direction).
 */
export interface WireTensor {
  name: string;
  datatype: Datatype;
  shape: number[];
  data: NumericData | readonly string[];
}

export function toWire(t: Tensor): WireTensor {
  if (t.datatype === 'BYTES') {
    return {
      name: t.name,
      datatype: t.datatype,
      shape: t.shape,
      data: (t.data as BytesData).toStrings(),
    };
  }
  return {
    name: t.name,
    datatype: t.datatype,
    shape: t.shape,
    data: t.data as NumericData,
  };
}

export function fromWire(w: WireTensor): Tensor {
  if (w.datatype === 'BYTES') {
    return {
      name: w.name,
      datatype: 'BYTES',
      shape: w.shape,
      data: BytesData.fromStrings(w.data as readonly string[]),
    };
  }
  return {
    name: w.name,
    datatype: w.datatype,
    shape: w.shape,
    data: w.data as NumericData,
  };
}

/**
 * Buffers to transfer (not copy) to the other thread. A view that does not cover its whole buffer
 * (a slice of a request body, a Buffer pool slab) is first compacted, because transferring would
 * detach memory that others still use, and cloning would copy the whole backing store.
 */
export function transferables(tensors: WireTensor[]): ArrayBuffer[] {
  const list: ArrayBuffer[] = [];
  for (const t of tensors) {
    if (Array.isArray(t.data)) continue;
    let data = t.data as NumericData;
    if (
      data.byteOffset !== 0 ||
      data.byteLength !== data.buffer.byteLength ||
      !(data.buffer instanceof ArrayBuffer)
    ) {
      data = data.slice() as typeof data;
      t.data = data;
    }
    if (!list.includes(data.buffer as ArrayBuffer)) list.push(data.buffer as ArrayBuffer);
  }
  return list;
}
