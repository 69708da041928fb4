/** Task endpoints through the gateway: signatures map JSON and multipart to tensors and back. */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { makeApiRepository } from './fixtures.js';
import { bearer, startGatewayServer, type GatewayServer } from './server.js';

describe('POST /v1/models/{name}/predict', () => {
  let repo: string;
  let g: GatewayServer;
  let key: string;
  before(async () => {
    repo = makeApiRepository();
    g = await startGatewayServer(repo);
    key = (await g.admin.create({ name: 'predict tests', plan: 'unlimited' })).key;
  });
  after(async () => {
    await g.close();
    rmSync(repo, { recursive: true, force: true });
  });

  const post = (path: string, body: unknown) =>
    fetch(g.url + path, { method: 'POST', headers: bearer(key), body: JSON.stringify(body) });

  it('one text → {label, score}', async () => {
    const r = await post('/v1/models/spam/predict', { text: 'Buy NOW' });
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { label: 'spam', score: 0.96875 });
    assert.equal(r.headers.get('x-model-version'), '1');
    assert.ok(r.headers.get('x-request-id'));
  });

  it('a list of texts → {results: [...]} in order', async () => {
    const r = await post('/v1/models/spam/predict', { texts: ['hello', 'buy now', 'lunch?'] });
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), {
      results: [
        { label: 'ham', score: 0.125 },
        { label: 'spam', score: 0.96875 },
        { label: 'ham', score: 0.125 },
      ],
    });
  });

  it('a version alias (production) and a version number both resolve', async () => {
    for (const v of ['production', '1']) {
      const r = await post(`/v1/models/spam/versions/${v}/predict`, { text: 'hi' });
      assert.equal(r.status, 200, v);
      assert.deepEqual(await r.json(), { label: 'ham', score: 0.125 });
    }
    const r = await post('/v1/models/spam/versions/canary/predict', { text: 'hi' });
    assert.equal(r.status, 404);
    assert.equal(((await r.json()) as { code: string }).code, 'version_not_found');
  });

  it('image as base64 JSON: the json output is spread into the answer', async () => {
    const doc = { text: 'hello world', lines: [{ text: 'hello world', confidence: 0.9, box: [[0, 0]] }] };
    const r = await post('/v1/models/ocr_echo/predict', {
      image_base64: Buffer.from(JSON.stringify(doc)).toString('base64'),
    });
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), doc);
  });

  it('image as a multipart file upload', async () => {
    const doc = { text: 'multi', lines: [] };
    const form = new FormData();
    form.append('image', new Blob([JSON.stringify(doc)], { type: 'image/png' }), 'scan.png');
    const r = await fetch(g.url + '/v1/models/ocr_echo/predict', {
      method: 'POST',
      headers: { authorization: `Bearer ${key}` },
      body: form,
    });
    assert.equal(r.status, 200, await r.clone().text());
    assert.deepEqual(await r.json(), doc);
  });

  it('bad requests are problem+json naming the field', async () => {
    const cases: Array<[unknown, number, string, RegExp]> = [
      [{}, 400, 'missing_input', /'text'.*'texts'/],
      [{ text: 5 }, 400, 'invalid_input', /must be a string/],
      [{ text: 'a', texts: ['b'] }, 400, 'invalid_request', /either/],
      [{ texts: [] }, 400, 'invalid_input', /non-empty/],
      [{ txt: 'a' }, 400, 'invalid_request', /unknown field/],
      [[1, 2], 400, 'invalid_request', /JSON object/],
    ];
    for (const [body, status, code, detail] of cases) {
      const r = await post('/v1/models/spam/predict', body);
      assert.equal(r.status, status, JSON.stringify(body));
      assert.match(r.headers.get('content-type') ?? '', /^application\/problem\+json/);
      const p = (await r.json()) as Record<string, unknown>;
      assert.equal(p.code, code, JSON.stringify(p));
      assert.match(String(p.detail), detail);
      assert.equal(p.status, status);
      assert.equal(p.type, `https://inferd.dev/errors/${code}`);
      assert.equal(p.instance, '/v1/models/spam/predict');
      assert.equal(p.request_id, r.headers.get('x-request-id'));
    }
    const bad = await fetch(g.url + '/v1/models/spam/predict', {
      method: 'POST',
      headers: bearer(key),
      body: '{',
    });
    assert.equal(((await bad.json()) as { code: string }).code, 'invalid_json');
  });

  it('a model without a signature has no task endpoint (501), an unknown model is 404', async () => {
    const r = await post('/v1/models/add/predict', { a: 1 });
    assert.equal(r.status, 501);
    assert.match(((await r.json()) as { detail: string }).detail, /no signature/);
    const n = await post('/v1/models/nope/predict', { a: 1 });
    assert.equal(n.status, 404);
    assert.equal(((await n.json()) as { code: string }).code, 'model_not_found');
  });

  it('/v2 keeps its {"error","code"} shape and needs no key', async () => {
    const r = await fetch(g.url + '/v2/models/nope');
    assert.equal(r.status, 404);
    const b = (await r.json()) as Record<string, unknown>;
    assert.deepEqual(Object.keys(b).sort(), ['code', 'error']);
    assert.equal((await fetch(g.url + '/v2/health/ready')).status, 200);
  });
});
