/**
 * The bound on what one response carries (--max-response-bytes), checked in the service on the
 * output tensors as the model produced them, before any transport encodes them: an output grows
 * with what the client asks (rows, outputs, open dims), and a small request to a model stage can
 * ask for a lot (7.4 MB in to ocr-rec made 85 MB of FP32 out, 252 MB as JSON).
 */
import type { BytesData, Tensor } from '../core/tensor.js';
import { InferdError } from '../errors.js';

/** Bytes of the outputs as the binary encodings carry them (BYTES: a 4-byte length per element). */
function outputBytes(outputs: readonly Tensor[]): number {
  let n = 0;
  for (const t of outputs) {
    if (t.datatype !== 'BYTES') n += (t.data as ArrayBufferView).byteLength;
    else n += 4 * t.data.length + (t.data as BytesData).byteLength;
  }
  return n;
}

/** Refuses with `response_too_large` (the client can ask for less) when the outputs are over `limit`. */
export function assertResponseFits(model: string, outputs: readonly Tensor[], limit: number): void {
  const bytes = outputBytes(outputs);
  if (bytes <= limit) return;
  const names = outputs.map((t) => `'${t.name}'`).join(', ');
  throw new InferdError(
    'response_too_large',
    `model '${model}' produced ${bytes} bytes of outputs (${names}), more than the limit of ${limit} (--max-response-bytes): send fewer rows per request, or ask for fewer outputs ("outputs")`,
  );
}
