/**
 * OCR through /v1 with the real models/ocr pipeline: a rendered image uploaded as multipart with the
 * SDK, and as base64 JSON. Skipped when the OCR models or the pipeline backend are not available.
 * The pipeline backend is looked up at run time so this file does not depend on its module at build.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { KeyAdmin } from '../../src/gateway/key-admin.js';
import { DEFAULT_PLANS } from '../../src/gateway/plans.js';
import type { BackendFactory } from '../../src/runtime/backend.js';
import { BACKENDS, type RunningServer } from '../../src/server.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { InferdClient } from '../../sdk/index.js';
import { startTestServer } from '../helpers/server.js';

async function pipelineBackend(): Promise<BackendFactory | undefined> {
  const have = BACKENDS.find((b) => b.name === 'pipeline');
  if (have) return have;
  const path = '../../src/runtime/pipeline/backend.js';
  try {
    return ((await import(path)) as { pipelineBackend?: BackendFactory }).pipelineBackend;
  } catch {
    return undefined;
  }
}

/** `npm:@scope/pkg/sub/path` → an absolute path inside node_modules. */
function npmPath(ref: string): string {
  const spec = ref.slice('npm:'.length);
  const parts = spec.split('/');
  const pkg = spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
  const sub = parts.slice(spec.startsWith('@') ? 2 : 1).join('/');
  // The package's exports hide package.json, so look in the project's node_modules (tests run from the root).
  return resolve('node_modules', pkg, sub);
}

/** A temp repository with models/ocr and its three ONNX models, their files as absolute paths. */
function ocrRepository(): string {
  const dir = mkdtempSync(join(tmpdir(), 'inferd-ocr-api-repo-'));
  cpSync(join('models', 'ocr'), join(dir, 'ocr'), { recursive: true });
  for (const name of ['ocr-det', 'ocr-cls', 'ocr-rec']) {
    const cfg = JSON.parse(readFileSync(join('models', name, 'config.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    const file = String(cfg.default_model_filename);
    if (file.startsWith('npm:')) cfg.default_model_filename = npmPath(file);
    mkdirSync(join(dir, name, '1'), { recursive: true });
    writeFileSync(join(dir, name, 'config.json'), JSON.stringify(cfg));
  }
  return dir;
}

async function textImage(): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="640" height="160">
    <rect width="100%" height="100%" fill="white"/>
    <text x="40" y="100" font-family="DejaVu Sans" font-size="56" fill="black">HELLO WORLD</text></svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}

const missing = ['ocr', 'ocr-det', 'ocr-rec', 'ocr-cls'].find(
  (m) => !existsSync(join('models', m, 'config.json')),
);

describe('OCR through the customer API', { skip: missing ? `models/${missing} is missing` : false }, () => {
  let server: RunningServer;
  let dataDir: string;
  let repo: string;
  let client: InferdClient;
  let key: string;
  let skip: string | undefined;
  let added: BackendFactory | undefined;

  before(async () => {
    const backend = await pipelineBackend();
    if (!backend) {
      skip = 'the pipeline backend is not available';
      return;
    }
    if (!BACKENDS.includes(backend)) {
      BACKENDS.push(backend);
      added = backend;
    }
    dataDir = mkdtempSync(join(tmpdir(), 'inferd-ocr-api-'));
    const store = new SqliteStore(join(dataDir, 'inferd.db'));
    key = (await new KeyAdmin(store, Object.keys(DEFAULT_PLANS.plans)).create({ name: 'ocr', plan: 'pro' }))
      .key;
    await store.close();
    repo = ocrRepository();
    server = await startTestServer(repo, { auth: 'on', dataDir });
    const notReady = ['ocr', 'ocr-det', 'ocr-rec', 'ocr-cls'].filter((m) => !server.service.modelReady(m));
    if (notReady.length > 0) skip = `model(s) ${notReady.join(', ')} did not load`;
    client = new InferdClient({ apiKey: key, baseUrl: server.httpUrl, maxRetries: 0 });
  });
  after(async () => {
    await server?.close();
    if (added) BACKENDS.splice(BACKENDS.indexOf(added), 1);
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    if (repo) rmSync(repo, { recursive: true, force: true });
  });

  it('multipart upload and base64 JSON both give {text, lines}', async (t) => {
    if (skip) return t.skip(skip);
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
      [['ocr', 2, 10]],
    );
  });
});
