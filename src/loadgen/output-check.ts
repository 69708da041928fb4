/**
 * perf_analyzer's output validation for `inferd bench`: an answer must hold each output its
 * request's `validation_data` entry names, with the same datatype, shape and elements. Elements are
 * compared exactly, as perf_analyzer compares bytes; the expected values went through the same
 * conversion as inputs, so an FP32 expectation is the float32 nearest to its JSON number.
 */
import type { Tensor, TensorData } from '../core/tensor.js';

const bytesOf = (a: ArrayBufferView): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

function sameData(a: TensorData, b: TensorData): boolean {
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => bytesOf(x).equals(bytesOf(b[i]!)));
  }
  return bytesOf(a as ArrayBufferView).equals(bytesOf(b as ArrayBufferView));
}

/** Why `outputs` fails the expectation, or undefined when it holds. */
export function outputMismatch(expected: readonly Tensor[], outputs: readonly Tensor[]): string | undefined {
  for (const e of expected) {
    const got = outputs.find((o) => o.name === e.name);
    if (!got) return `output '${e.name}' is missing from the answer`;
    if (got.datatype !== e.datatype) return `output '${e.name}' is ${got.datatype}, expected ${e.datatype}`;
    if (got.shape.join() !== e.shape.join()) {
      return `output '${e.name}' has shape [${got.shape.join(', ')}], expected [${e.shape.join(', ')}]`;
    }
    if (!sameData(e.data, got.data)) return `output '${e.name}' differs from its validation_data`;
  }
  return undefined;
}
