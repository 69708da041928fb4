/**
 * A temporary model repository holding the embedded OCR models (ocr, ocr-det, ocr-cls, ocr-rec) as
 * they are in models/, for tests and benchmarks that start the real server (the ONNX files resolve
 * through their `npm:` paths).
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO } from './ort-invoker.js';

export function makeOcrRepository(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'inferd-ocr-repo-'));
  for (const name of ['ocr', 'ocr-det', 'ocr-cls', 'ocr-rec']) {
    cpSync(join(REPO, name), join(dir, name), { recursive: true });
  }
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** POST /v2/models/ocr/infer with the image as a base64 BYTES element (JSON REST). */
export async function inferOverHttp(
  baseUrl: string,
  image: Uint8Array,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${baseUrl}/v2/models/ocr/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      inputs: [
        {
          name: 'image',
          datatype: 'BYTES',
          shape: [1],
          data: [Buffer.from(image).toString('base64')],
          parameters: { content_type: 'base64' },
        },
      ],
    }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
