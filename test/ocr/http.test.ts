/**
 * End to end through the real server: POST /v2/models/ocr/infer (JSON, base64 BYTES input) over
 * a temporary repository holding ocr, ocr-det, ocr-cls and ocr-rec, so the pipeline's model steps
 * go through the scheduler and the ONNX backend's worker threads.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningServer } from '../../src/server.js';
import { startTestServer } from '../helpers/server.js';
import { renderedSet } from './helpers/dataset.js';
import { cerParts } from './helpers/render.js';
import { inferOverHttp, makeOcrRepository } from './helpers/repo.js';

let server: RunningServer;
let repo: ReturnType<typeof makeOcrRepository>;

before(async () => {
  repo = makeOcrRepository();
  server = await startTestServer(repo.dir);
});

after(async () => {
  await server?.close();
  repo?.remove();
});

const infer = (image: Uint8Array) => inferOverHttp(server.httpUrl, image);

test('OCR over HTTP: text and JSON result for a rendered page', async () => {
  const meta = await fetch(`${server.httpUrl}/v2/models/ocr`);
  assert.equal(meta.status, 200);
  const metadata = (await meta.json()) as { platform: string; inputs: { name: string; datatype: string }[] };
  assert.equal(metadata.platform, 'pipeline');
  assert.deepEqual(
    metadata.inputs.map((i) => [i.name, i.datatype]),
    [['image', 'BYTES']],
  );
  const page = (await renderedSet()).find((c) => c.exifOrientation === 6);
  assert.ok(page);
  const { status, body } = await infer(page.bytes);
  assert.equal(status, 200, JSON.stringify(body));
  const outputs = body.outputs as { name: string; datatype: string; data: string[] }[];
  const text = outputs.find((o) => o.name === 'text');
  const result = outputs.find((o) => o.name === 'result');
  assert.ok(text && result);
  assert.equal(text.datatype, 'BYTES');
  const expected = page.lines.join('\n');
  assert.ok(cerParts(expected, text.data[0]).edits <= 2, text.data[0]);
  const parsed = JSON.parse(result.data[0]) as { text: string; lines: { box: number[][] }[] };
  assert.equal(parsed.text, text.data[0]);
  assert.equal(parsed.lines.length, 3);
});

test('OCR over HTTP: a bad image is a 400 with code invalid_image', async () => {
  const { status, body } = await infer(Buffer.from('GIF89a not really'));
  assert.equal(status, 400);
  assert.equal(body.code, 'invalid_image');
});
