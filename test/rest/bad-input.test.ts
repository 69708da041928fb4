/** REST-specific bad input: each gets the right status, a stable code, an actionable message; the server keeps serving. */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../src/server.js';
import { makeFixtureRepository } from '../fixtures/repository.js';
import { startTestServer } from '../helpers/server.js';

describe('REST bad input', () => {
  let server: RunningServer;
  let repo: string;
  before(async () => {
    repo = makeFixtureRepository();
    server = await startTestServer(repo, { maxBodyBytes: 64 * 1024 });
  });
  after(async () => {
    await server.close();
    rmSync(repo, { recursive: true, force: true });
  });

  async function post(
    body: string | Buffer,
    headers: Record<string, string> = { 'content-type': 'application/json' },
    path = '/v2/models/add/infer',
  ) {
    const res = await fetch(server.httpUrl + path, { method: 'POST', headers, body });
    const text = await res.text();
    return {
      status: res.status,
      body: text ? (JSON.parse(text) as { error: string; code: string }) : undefined,
      headers: res.headers,
    };
  }

  const good = {
    inputs: [
      { name: 'a', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] },
      { name: 'b', shape: [1, 4], datatype: 'FP32', data: [1, 1, 1, 1] },
    ],
  };

  const cases: Array<[string, string | Buffer, number, string, RegExp, Record<string, string>?]> = [
    ['malformed JSON', '{"inputs": [', 400, 'invalid_json', /not valid JSON/],
    ['empty body', '', 400, 'invalid_json', /empty/],
    ['JSON that is not an object', '[1,2]', 400, 'invalid_request', /JSON object/],
    ['no inputs', '{"id": "x"}', 400, 'invalid_request', /inputs/],
    [
      'bad datatype',
      JSON.stringify({ inputs: [{ ...good.inputs[0], datatype: 'FLOAT32' }, good.inputs[1]] }),
      400,
      'invalid_request',
      /FLOAT32.*FP32/,
    ],
    [
      'bad shape',
      JSON.stringify({ inputs: [{ ...good.inputs[0], shape: [1, -4] }, good.inputs[1]] }),
      400,
      'invalid_request',
      /'a'.*shape/,
    ],
    [
      'too few elements',
      JSON.stringify({ inputs: [{ ...good.inputs[0], data: [1, 2, 3] }, good.inputs[1]] }),
      400,
      'invalid_input',
      /'a' has 3 elements.*needs 4/,
    ],
    [
      'wrong element type',
      JSON.stringify({ inputs: [{ ...good.inputs[0], data: [1, 'x', 3, 4] }, good.inputs[1]] }),
      400,
      'invalid_input',
      /'a' element 1/,
    ],
    [
      'missing data',
      JSON.stringify({ inputs: [{ name: 'a', shape: [1, 4], datatype: 'FP32' }, good.inputs[1]] }),
      400,
      'invalid_request',
      /'a' has no 'data'/,
    ],
    [
      'bad parameters',
      JSON.stringify({ ...good, parameters: { timeout: [1] } }),
      400,
      'invalid_request',
      /parameter 'timeout'/,
    ],
    [
      'bad priority',
      JSON.stringify({ ...good, parameters: { priority: 99 } }),
      400,
      'invalid_request',
      /priority/,
    ],
    [
      'non-JSON content type',
      JSON.stringify(good),
      415,
      'unsupported_media_type',
      /application\/json/,
      { 'content-type': 'image/png' },
    ],
    ['oversized body', Buffer.alloc(128 * 1024, 32), 413, 'payload_too_large', /larger than the limit/],
  ];

  for (const [name, body, status, code, message, headers] of cases) {
    it(`${name} → ${status} ${code}`, async () => {
      const res = await post(body, headers);
      assert.equal(res.status, status, JSON.stringify(res.body));
      assert.equal(res.body?.code, code);
      assert.match(res.body!.error, message);
    });
  }

  it("JSON labelled as curl -d labels it, as text, or not at all is read as JSON (Triton's examples post that way)", async () => {
    for (const headers of <Array<Record<string, string>>>[
      { 'content-type': 'application/x-www-form-urlencoded' },
      { 'content-type': 'text/plain;charset=UTF-8' },
      {},
    ]) {
      const res = await fetch(server.httpUrl + '/v2/models/add/infer', {
        method: 'POST',
        headers,
        body: Buffer.from(JSON.stringify(good)),
      });
      assert.equal(res.status, 200, `${JSON.stringify(headers)}: ${await res.text()}`);
    }
  });

  it('out-of-range integers name the input and element', async () => {
    const res = await post(
      JSON.stringify({ inputs: [{ name: 'in_UINT8', shape: [1, 2], datatype: 'UINT8', data: [1, 256] }] }),
      undefined,
      '/v2/models/identity/infer',
    );
    assert.equal(res.status, 400);
    assert.match(res.body!.error, /'in_UINT8' element 1: 256 is out of range for UINT8/);
  });

  it('nested and flat data are the same request', async () => {
    const nested = {
      inputs: [
        {
          name: 'a',
          shape: [2, 4],
          datatype: 'FP32',
          data: [
            [1, 2, 3, 4],
            [5, 6, 7, 8],
          ],
        },
        { name: 'b', shape: [2, 4], datatype: 'FP32', data: [1, 1, 1, 1, 1, 1, 1, 1] },
      ],
    };
    const res = await fetch(server.httpUrl + '/v2/models/add/infer', {
      method: 'POST',
      body: JSON.stringify(nested),
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { outputs: Array<{ name: string; data: number[] }> };
    assert.deepEqual(body.outputs.find((o) => o.name === 'sum')!.data, [2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('unknown routes are 404 in the error shape', async () => {
    const res = await fetch(server.httpUrl + '/v2/nothing');
    assert.equal(res.status, 404);
    assert.equal(((await res.json()) as { code: string }).code, 'not_found');
  });

  it('x-request-id is echoed, or generated (unique), on fastify routes and on infer', async () => {
    const a = await fetch(server.httpUrl + '/v2', { headers: { 'x-request-id': 'abc-123' } });
    assert.equal(a.headers.get('x-request-id'), 'abc-123');
    const infer = await post(JSON.stringify(good), { 'x-request-id': 'client.id:7' });
    assert.equal(infer.headers.get('x-request-id'), 'client.id:7');
    const bad = await post(JSON.stringify(good), { 'x-request-id': 'has space' });
    const ids = [
      (await fetch(server.httpUrl + '/v2')).headers.get('x-request-id'),
      (await fetch(server.httpUrl + '/v2')).headers.get('x-request-id'),
      bad.headers.get('x-request-id'),
      (await post(JSON.stringify(good))).headers.get('x-request-id'),
    ];
    for (const id of ids) assert.match(id ?? '', /^[0-9a-z-]{18,}$/);
    assert.equal(new Set(ids).size, ids.length);
  });

  it('the server still serves after all of the above', async () => {
    const res = await post(JSON.stringify(good));
    assert.equal(res.status, 200);
  });
});
