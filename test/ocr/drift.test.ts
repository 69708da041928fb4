/**
 * OCR drift through the real server (docs/lifecycle.md#live-drift): the OCR model served with its
 * committed reference (models/ocr/1/drift_reference.json) observes each answered /v1 page, by JSON
 * base64 and by multipart upload, and /metrics reports the PSI of the image size, the line count
 * and the mean confidence once the window holds 100 pages. The pages sent are small one-line
 * snippets, far from the reference's mix of snippets and full pages, so the size and line-count
 * features pass the alert threshold.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PSI_ALERT } from '../../src/core/drift.js';
import type { RunningServer } from '../../src/server.js';
import { startTestServer } from '../helpers/server.js';
import { layout, renderRaw } from './helpers/render.js';
import { makeOcrRepository } from './helpers/repo.js';

let server: RunningServer;
let repo: ReturnType<typeof makeOcrRepository>;

before(async () => {
  repo = makeOcrRepository();
  server = await startTestServer(repo.dir, { auth: 'off' });
});

after(async () => {
  await server?.close();
  repo?.remove();
});

async function metric(name: string, feature?: string): Promise<number | undefined> {
  const text = await (await fetch(`${server.httpUrl}/metrics`)).text();
  const labels = `model="ocr",version="1"${feature ? `,feature="${feature}"` : ''}`;
  const m = new RegExp(`^${name}\\{${labels}\\} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

async function predict(page: Buffer, multipart: boolean): Promise<{ lines: unknown[] }> {
  let init: RequestInit;
  if (multipart) {
    const form = new FormData();
    form.append('image', new Blob([page], { type: 'image/png' }), 'page.png');
    init = { method: 'POST', body: form };
  } else {
    init = {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ image: page.toString('base64') }),
    };
  }
  const res = await fetch(`${server.httpUrl}/v1/models/ocr/predict`, init);
  const body = (await res.json()) as { lines: unknown[] };
  assert.equal(res.status, 200, JSON.stringify(body));
  return body;
}

test('OCR drift: image size, line count and mean confidence PSI on /metrics from 100 pages', async () => {
  assert.ok(existsSync(join(repo.dir, 'ocr', '1', 'drift_reference.json')), 'the committed reference');
  const page = await (
    await renderRaw(320, 64, layout(['Invoice 2024-117'], 'DejaVu Sans', 24, 10, 10))
  )
    .png()
    .toBuffer();
  for (let i = 0; i < 99; i++) {
    const answer = await predict(page, i % 2 === 1);
    assert.equal(answer.lines.length, 1);
  }
  assert.equal(await metric('inferd_drift_window_items'), 99);
  assert.equal(await metric('inferd_drift_psi', 'image_pixels'), undefined, 'no PSI below 100 pages');
  await predict(page, false);
  assert.equal(await metric('inferd_drift_window_items'), 100);
  for (const feature of ['image_pixels', 'image_long_side', 'line_count']) {
    const psi = await metric('inferd_drift_psi', feature);
    assert.ok(psi !== undefined && psi > PSI_ALERT, `${feature} PSI ${psi} should pass the alert`);
  }
  const prediction = await metric('inferd_drift_psi', 'prediction');
  assert.ok(prediction !== undefined && Number.isFinite(prediction) && prediction >= 0);
});
