/**
 * Feeds a version's drift window (observability/drift-window.ts) with each answered /v1 item: the
 * value of the reference's input field (the text, or the image's bytes) and the answer's outputs
 * the reference reads, by signature field, tensor name or (for spread JSON outputs such as OCR's
 * `lines`) answer field. Called after the answer is encoded, so only answered items count.
 */
import type { Answer } from '../../core/drift-features.js';
import type { Admitted } from '../../service/inference-service.js';
import type { JsonObject } from './codec.js';
import type { Signature } from './signature.js';

/**
 * Base64 characters decoded for an image: enough for the first 1 MiB, all the header reader looks
 * at (core/image-header.ts), so a large upload is not decoded a second time in full.
 */
const IMAGE_PREFIX_CHARS = 4 * Math.ceil((1024 * 1024) / 3);

/** An image field's bytes as the client sent them: a multipart file, or base64 in JSON (a prefix). */
function imageBytes(v: unknown): Uint8Array | undefined {
  if (v instanceof Uint8Array) return v;
  if (typeof v === 'string') return Buffer.from(v.slice(0, IMAGE_PREFIX_CHARS), 'base64');
  return undefined;
}

export function observeDrift(
  admitted: Admitted,
  sig: Signature,
  body: Record<string, unknown>,
  items: readonly JsonObject[],
  batched: boolean,
): void {
  const w = admitted.drift;
  if (!w) return;
  const input = sig.inputs.find((i) => i.field === w.input || i.tensor === w.input);
  if (!input) return;
  const single =
    input.type === 'image' ? (body[input.field] ?? body[`${input.field}_base64`]) : body[input.field];
  const raw = batched ? body[input.batch_field ?? ''] : [single];
  if (!Array.isArray(raw)) return;
  // Where each output the reference names is in the answer: a signature field, else the name itself.
  const fields = w.outputs.map(
    (name) => [name, sig.outputs.find((o) => o.field === name || o.tensor === name)?.field ?? name] as const,
  );
  raw.forEach((v: unknown, i) => {
    const item = items[i];
    if (!item) return;
    const answer: Answer = Object.fromEntries(fields.map(([name, field]) => [name, item[field]]));
    w.observe(input.type === 'image' ? imageBytes(v) : v, answer);
  });
}
