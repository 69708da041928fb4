/**
 * The request `inferd bench` sends: synthesised from the model's metadata (random values per
 * datatype, dynamic dims = 1, BYTES = a short ASCII string); `--input` files are read by input-file.ts.
 * The same request object is reused for every call; the clients never mutate it.
 */
import {
  BytesData,
  TYPED_ARRAY,
  elementCount,
  type Datatype,
  type Tensor,
  type TensorData,
} from '../core/tensor.js';
import type { ClientRequest } from '../oip-client/types.js';
import type { TensorSpec } from '../core/model.js';
import type { ModelMetadata } from '../core/model.js';

const WORDS = ['free', 'offer', 'meeting', 'tomorrow', 'invoice', 'winner', 'hello', 'report'];

/** A few words (≤ 40 bytes): realistic for text models, small enough not to dominate the body. */
function randomText(): string {
  const n = 2 + Math.floor(Math.random() * 4);
  const words = Array.from({ length: n }, () => WORDS[Math.floor(Math.random() * WORDS.length)]!);
  return words.join(' ');
}

/** Random values in a range every datatype can hold (0..99 for integers, [-1, 1) for floats). */
function randomData(datatype: Datatype, count: number): TensorData {
  if (datatype === 'BYTES') return BytesData.fromStrings(Array.from({ length: count }, randomText));
  const data = new TYPED_ARRAY[datatype](count);
  for (let i = 0; i < count; i++) {
    switch (datatype) {
      case 'FP32':
      case 'FP64':
        data[i] = Math.random() * 2 - 1;
        break;
      case 'FP16':
      case 'BF16':
        // Raw 16-bit patterns of small positive numbers (exponent bits set, sign clear).
        data[i] = 0x3800 + Math.floor(Math.random() * 0x400);
        break;
      case 'BOOL':
        data[i] = Math.random() < 0.5 ? 0 : 1;
        break;
      case 'INT64':
      case 'UINT64':
        data[i] = BigInt(Math.floor(Math.random() * 100));
        break;
      default:
        data[i] = Math.floor(Math.random() * 100);
    }
  }
  return data;
}

/** One input tensor for a spec: every dynamic (-1) dim becomes 1. */
function synthTensor(spec: TensorSpec): Tensor {
  const shape = spec.shape.map((d) => (d < 0 ? 1 : d));
  return {
    name: spec.name,
    datatype: spec.datatype,
    shape,
    data: randomData(spec.datatype, elementCount(shape)),
  };
}

export function synthRequest(meta: ModelMetadata, modelVersion?: string): ClientRequest {
  if (meta.inputs.length === 0) throw new Error(`model '${meta.name}' declares no inputs`);
  return { modelName: meta.name, modelVersion, inputs: meta.inputs.map(synthTensor) };
}
