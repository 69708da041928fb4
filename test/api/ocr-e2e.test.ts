/**
 * OCR through /v1 with the real models/ocr pipeline: a rendered image uploaded as multipart with the
 * SDK, and as base64 JSON.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { KeyAdmin } from '../../src/gateway/key-admin.js';
import { DEFAULT_PLANS } from '../../src/gateway/plans.js';
import type { RunningServer } from '../../src/server.js';
import { SqliteStore } from '../../src/gateway/store/sqlite.js';
import { InferdClient } from '../../sdk/index.js';
import { startTestServer } from '../helpers/server.js';
import { makeOcrRepository } from '../ocr/helpers/repo.js';

async function textImage(): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="640" height="160">
    <rect width="100%" height="100%" fill="white"/>
    <text x="40" y="100" font-family="DejaVu Sans" font-size="56" fill="black">HELLO WORLD</text></svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}

describe('OCR through the customer API', () => {
  let server: RunningServer;
  let dataDir: string;
  let repo: ReturnType<typeof makeOcrRepository> | undefined;
  let client: InferdClient;
  let key: string;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'inferd-ocr-api-'));
    const store = new SqliteStore(join(dataDir, 'inferd.db'));
    key = (await new KeyAdmin(store, Object.keys(DEFAULT_PLANS.plans)).create({ name: 'ocr', plan: 'pro' }))
      .key;
    await store.close();
    repo = makeOcrRepository();
    server = await startTestServer(repo.dir, { auth: 'on', dataDir });
    for (const m of ['ocr', 'ocr-det', 'ocr-rec', 'ocr-cls'])
      assert.ok(server.service.modelReady(m), `${m} is READY`);
    client = new InferdClient({ apiKey: key, baseUrl: server.httpUrl, maxRetries: 0 });
  });
  after(async () => {
    await server?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    repo?.remove();
  });

  it('multipart upload and base64 JSON both give {text, lines}', async () => {
    const png = await textImage();
    const res = await client.predictFile<{
      text: string;
      lines: Array<{ text: string; confidence: number; box: number[][] }>;
    }>('ocr', png, { filename: 'hello.png' });
    assert.match(res.text.toUpperCase(), /HELLO\s*WORLD/);
    assert.ok(res.lines.length >= 1);
    assert.ok(res.lines.every((l) => typeof l.text === 'string' && l.confidence > 0 && l.box.length === 4));
    const viaJson = await client.predict<{ text: string }>('ocr', { image_base64: png.toString('base64') });
    assert.equal(viaJson.text, res.text);
    const usage = await client.usage();
    assert.deepEqual(
      usage.days.map((d) => [d.model, d.requests, d.units]),
      // Two calls at the default OCR weight (8,400 units a page, derived in docs/market.md).
      [['ocr', 2, 2 * DEFAULT_PLANS.modelWeights.ocr!]],
    );
  });
});
