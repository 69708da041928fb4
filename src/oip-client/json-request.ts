/** Internal tensors → JSON request inputs (the client side of the REST JSON encoding). */
import type { Tensor } from '../core/tensor.js';
import { dataToValues } from '../protocol/tensor-values.js';

export function encodeJsonInput(t: Tensor): Record<string, unknown> {
  const out: Record<string, unknown> = { name: t.name, shape: t.shape, datatype: t.datatype };
  if (t.parameters) out.parameters = t.parameters;
  const base64 = t.parameters?.content_type === 'base64';
  out.data =
    t.datatype === 'BYTES' && base64
      ? (t.data as Uint8Array[]).map((b) => Buffer.from(b).toString('base64'))
      : dataToValues(t.datatype, t.data);
  return out;
}
