/**
 * The Vertex AI custom container contract against the real CLI, with the variables Vertex AI sets:
 * AIP_HTTP_PORT, AIP_HEALTH_ROUTE and AIP_PREDICT_ROUTE (here Vertex's own default paths,
 * `/v1/endpoints/{endpoint}/deployedModels/{id}` and the same with `:predict`), and the
 * `{"instances": [...]}` → `{"predictions": [...]}` bodies for the spam detector (text instances),
 * the OCR model (`{"b64": …}` images) and a model without a signature (rows).
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../src/server.js';
import { startTestServer } from '../helpers/server.js';
import { freePort } from '../helpers/spawn.js';
import { cerParts } from '../ocr/helpers/render.js';
import {
  makePlatformRepository,
  postJson,
  spawnPlatformServer,
  tabularScore,
  textImage,
  type PlatformServer,
} from './helpers.js';

const HEALTH = '/v1/endpoints/8675309/deployedModels/1234567';
const PREDICT = `${HEALTH}:predict`;

async function vertexServer(repo: string, env: Record<string, string> = {}): Promise<PlatformServer> {
  const port = await freePort();
  return spawnPlatformServer(
    ['serve', '--model-repository', repo],
    {
      AIP_HTTP_PORT: String(port),
      AIP_HEALTH_ROUTE: HEALTH,
      AIP_PREDICT_ROUTE: PREDICT,
      AIP_DEPLOYED_MODEL_ID: '1234567',
      AIP_MODE: 'PREDICTION',
      // Vertex AI authenticates callers (IAM) and forwards no key of ours.
      INFERD_V2_AUTH: 'off',
      ...env,
    },
    port,
    HEALTH,
  );
}

describe('Vertex AI: spam detector (the repository has one model)', () => {
  let repo: string;
  let server: PlatformServer;
  before(async () => {
    repo = makePlatformRepository(['spam']);
    server = await vertexServer(repo);
  });
  after(async () => {
    await server?.stop();
    if (repo) rmSync(repo, { recursive: true, force: true });
  });

  it('AIP_HEALTH_ROUTE answers readiness: 200 and an empty body', async () => {
    const res = await fetch(server.url + HEALTH);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), '');
  });

  it('instances → predictions, one per instance in order: bare strings and {"text": …} objects', async () => {
    const { status, body } = await postJson(server.url + PREDICT, {
      instances: ['Buy now', { text: 'lunch at noon?' }, 'BUY NOW'],
      parameters: { priority: 1 },
    });
    assert.equal(status, 200, JSON.stringify(body));
    assert.deepEqual(body, {
      predictions: [
        { label: 'spam', score: 0.96875 },
        { label: 'ham', score: 0.125 },
        { label: 'spam', score: 0.96875 },
      ],
    });
  });

  it('a bad instance is 400 with a stable code, naming the instance', async () => {
    const { status, body } = await postJson(server.url + PREDICT, { instances: ['fine', 42] });
    assert.equal(status, 400);
    assert.equal(body.code, 'invalid_input');
    assert.match(body.error as string, /^instances\[1\]: field 'text': must be a string/);
    const unknown = await postJson(server.url + PREDICT, { instances: [{ txt: 'typo' }] });
    assert.equal(unknown.status, 400);
    assert.equal(unknown.body.code, 'invalid_request');
    assert.match(unknown.body.error as string, /unknown field\(s\) txt/);
  });

  it('a body that is not a predict body is 400: no instances, empty, too many, unknown fields', async () => {
    const cases: Array<[unknown, string, RegExp]> = [
      [{ inputs: [] }, 'invalid_request', /'instances' array/],
      [{ instances: [] }, 'invalid_request', /'instances' is empty/],
      [{ instances: Array.from({ length: 257 }, () => 'x') }, 'invalid_request', /the limit is 256/],
      [{ instances: ['x'], parameters: { nested: { a: 1 } } }, 'invalid_request', /parameter 'nested'/],
    ];
    for (const [payload, code, message] of cases) {
      const { status, body } = await postJson(server.url + PREDICT, payload);
      assert.equal(status, 400, JSON.stringify(payload).slice(0, 80));
      assert.equal(body.code, code);
      assert.match(body.error as string, message);
    }
    const res = await fetch(server.url + PREDICT, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"instances": [',
    });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { code: string }).code, 'invalid_json');
  });

  it('the default /v2 routes still serve beside the Vertex routes', async () => {
    assert.equal((await fetch(server.url + '/v2/health/ready')).status, 200);
    assert.equal((await fetch(server.url + '/v2/models/spam/ready')).status, 200);
  });
});

describe('Vertex AI: OCR (several models: INFERD_DEFAULT_MODEL chooses)', () => {
  let repo: string;
  let server: PlatformServer;
  before(async () => {
    repo = makePlatformRepository(['ocr']);
    server = await vertexServer(repo, { INFERD_DEFAULT_MODEL: 'ocr' });
  });
  after(async () => {
    await server?.stop();
    if (repo) rmSync(repo, { recursive: true, force: true });
  });

  it('{"b64": …} image instances → the text and lines of each image', async () => {
    const texts = ['Total due 118.40', 'Shipped to Lisbon'];
    const images = await Promise.all(texts.map((t) => textImage(t, 'png')));
    const { status, body } = await postJson(server.url + PREDICT, {
      instances: [{ b64: images[0]!.toString('base64') }, { image: { b64: images[1]!.toString('base64') } }],
    });
    assert.equal(status, 200, JSON.stringify(body));
    const predictions = body.predictions as Array<{ text: string; lines: Array<{ box: number[][] }> }>;
    assert.equal(predictions.length, 2);
    predictions.forEach((p, i) => {
      assert.ok(cerParts(texts[i]!, p.text).edits <= 1, `read '${p.text}' for '${texts[i]}'`);
      assert.equal(p.lines.length, 1);
    });
  });

  it('an instance that is not an image is 400 invalid_image, naming the instance', async () => {
    const good = (await textImage('ok', 'png')).toString('base64');
    const { status, body } = await postJson(server.url + PREDICT, {
      instances: [{ b64: good }, { b64: Buffer.from('GIF89a not really').toString('base64') }],
    });
    assert.equal(status, 400);
    assert.equal(body.code, 'invalid_image');
    assert.match(body.error as string, /^instances\[1\]: /);
  });
});

describe('Vertex AI: a model without a signature (instances are rows)', () => {
  let repo: string;
  let server: RunningServer;
  before(async () => {
    repo = makePlatformRepository(['tabular', 'spam']);
    server = await startTestServer(repo, {
      vertexHealthRoute: HEALTH,
      vertexPredictRoute: PREDICT,
      defaultModel: 'tabular',
    });
  });
  after(async () => {
    await server?.close();
    if (repo) rmSync(repo, { recursive: true, force: true });
  });

  it('each instance is one row of the input, each prediction the row of the output', async () => {
    const rows = [
      [1, 2, 3, 4],
      [-1, 0.5, 0, 8],
    ];
    const { status, body } = await postJson(server.httpUrl + PREDICT, {
      instances: [rows[0], { x: rows[1] }],
    });
    assert.equal(status, 200, JSON.stringify(body));
    assert.deepEqual(body, { predictions: rows.map(tabularScore) });
  });

  it('a row of the wrong width is 400 shape_mismatch; an unknown input 400 unknown_input', async () => {
    const wide = await postJson(server.httpUrl + PREDICT, { instances: [[1, 2, 3, 4, 5]] });
    assert.equal(wide.status, 400);
    assert.equal(wide.body.code, 'shape_mismatch');
    const named = await postJson(server.httpUrl + PREDICT, { instances: [{ y: [1, 2, 3, 4] }] });
    assert.equal(named.status, 400, JSON.stringify(named.body));
    assert.equal(named.body.code, 'unknown_input');
  });
});
