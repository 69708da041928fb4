/**
 * Element values in REST JSON that JSON itself cannot carry or that need checking: floats that are
 * not finite, base64 BYTES, deeply nested data (issue 23: finding 7 and the low items).
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../src/server.js';
import { makeApiRepository } from '../api/fixtures.js';
import { IDENTITY_TYPES } from '../fixtures/repository.js';
import { startTestServer } from '../helpers/server.js';

/** The identity model needs every input: `given` ones plus a [1, 1] zero for the others. */
function identityInputs(...given: Array<Record<string, unknown> & { name: string }>): unknown[] {
  return Object.keys(IDENTITY_TYPES).map(
    (dt) =>
      given.find((g) => g.name === `in_${dt}`) ?? {
        name: `in_${dt}`,
        shape: [1, 1],
        datatype: dt,
        data: [dt === 'BYTES' ? '' : dt === 'BOOL' ? false : 0],
      },
  );
}

interface Answer {
  status: number;
  body: { error?: string; code?: string; outputs?: Array<{ name: string; data: unknown[] }> };
}

describe('REST JSON element values', () => {
  let server: RunningServer;
  let repo: string;
  before(async () => {
    repo = makeApiRepository();
    server = await startTestServer(repo, { auth: 'off' });
  });
  after(async () => {
    await server.close();
    rmSync(repo, { recursive: true, force: true });
  });

  async function infer(model: string, body: unknown, path = `/v2/models/${model}/infer`): Promise<Answer> {
    const res = await fetch(server.httpUrl + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Answer['body'] };
  }

  it('NaN and ±Infinity outputs are the strings the decoder accepts, not null', async () => {
    const special = ['NaN', 'Infinity', '-Infinity', 1.5];
    for (const dt of ['FP16', 'FP32', 'FP64']) {
      const res = await infer('identity', {
        inputs: identityInputs({ name: `in_${dt}`, shape: [1, 4], datatype: dt, data: special }),
        outputs: [{ name: `out_${dt}` }],
      });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual(res.body.outputs![0]!.data, special, dt);
    }
  });

  it("base64 BYTES are checked strictly: '!!!' is 400 invalid_input naming the element", async () => {
    const bytes = (data: string[]) => ({
      inputs: identityInputs({
        name: 'in_BYTES',
        shape: [1, data.length],
        datatype: 'BYTES',
        parameters: { content_type: 'base64' },
        data,
      }),
      outputs: [{ name: 'out_BYTES' }],
    });
    const ok = await infer('identity', bytes(['aGk=', '', 'w7w=']));
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.deepEqual(ok.body.outputs![0]!.data, ['hi', '', 'ü']);
    for (const bad of ['!!!', 'aGk', 'aG k=', 'aGk=aGk=x', 'a===', 'aG-_']) {
      const res = await infer('identity', bytes(['aGk=', bad]));
      assert.equal(res.status, 400, `${bad}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.code, 'invalid_input');
      assert.match(res.body.error!, /input 'in_BYTES' element 1: .* is not valid base64/);
    }
  });

  // Finding 7: the decoder flattened nested data recursively, so 10,000 levels overflowed the
  // stack: 500 "Maximum call stack size exceeded" with a stack trace in the log.
  it('data nested 10,000 deep is 400 invalid_input, not a stack overflow', async () => {
    const deep = '['.repeat(10_000) + '1' + ']'.repeat(10_000);
    const input = (data: string) =>
      `{"inputs":[{"name":"a","shape":[1,4],"datatype":"FP32","data":${data}},{"name":"b","shape":[1,4],"datatype":"FP32","data":[1,1,1,1]}]}`;
    const res = await infer('add', input(deep));
    assert.equal(res.status, 400, JSON.stringify(res.body));
    assert.equal(res.body.code, 'invalid_input');
    assert.match(res.body.error!, /nests more than 64 levels/);
    // Within the JSON bound but deeper than the tensor's rank (2): refused by the flattening.
    const res2 = await infer('add', input('[[[[1,2,3,4]]]]'));
    assert.equal(res2.status, 400, JSON.stringify(res2.body));
    assert.equal(res2.body.code, 'invalid_input');
    assert.match(res2.body.error!, /input 'a': data nests deeper than its shape \[1, 4\] has dims \(2\)/);
    // As deep as the rank is fine, as it always was.
    const ok = await infer('add', input('[[1,2,3,4]]'));
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
  });

  it('deep nesting in parameters, and in /v1 bodies, is refused the same way', async () => {
    const deep = '['.repeat(10_000) + ']'.repeat(10_000);
    const params = await infer(
      'add',
      `{"parameters":{"x":${deep}},"inputs":[{"name":"a","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}]}`,
    );
    assert.equal(params.status, 400, JSON.stringify(params.body));
    assert.equal(params.body.code, 'invalid_input');
    assert.match(params.body.error!, /nests more than 64 levels/);
    const v1 = await infer('spam', `{"text":${deep}}`, '/v1/models/spam/predict');
    assert.equal(v1.status, 400, JSON.stringify(v1.body));
    assert.equal(v1.body.code, 'invalid_input');
    assert.match(JSON.stringify(v1.body), /nests more than 64 levels/);
  });
});
