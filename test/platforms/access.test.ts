/**
 * The platform routes under the access policy (docs/access-control.md): /ping and the Vertex health
 * route are open like every health route; /invocations and the Vertex predict route are inference,
 * so with auth on and --v2-auth keys they need a customer key, and with one they answer with the
 * same rate-limit headers and the same durable usage record as /v2 infer.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { VERTEX_ROUTE_POLICY, credentialFor } from '../../src/gateway/access-policy.js';
import { startGatewayServer, type GatewayServer } from '../api/server.js';
import { makePlatformRepository } from './helpers.js';

const HEALTH = '/v1/endpoints/1/deployedModels/2';
const PREDICT = `${HEALTH}:predict`;

describe('platform routes with auth on and --v2-auth keys', () => {
  let repo: string;
  let g: GatewayServer;
  before(async () => {
    repo = makePlatformRepository(['spam']);
    g = await startGatewayServer(repo, {
      settings: { v2Auth: 'keys', vertexHealthRoute: HEALTH, vertexPredictRoute: PREDICT },
    });
  });
  after(async () => {
    await g?.close();
    if (repo) rmSync(repo, { recursive: true, force: true });
  });

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(g.url + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  const spamBody = { inputs: [{ name: 'text', shape: [1], datatype: 'BYTES', data: ['buy now'] }] };

  it('the table: the Vertex health route is open, its predict route needs what /v2 inference needs', () => {
    const on = { auth: 'on', v2Auth: 'keys' } as const;
    assert.equal(credentialFor(VERTEX_ROUTE_POLICY.health, on), 'none');
    assert.equal(credentialFor(VERTEX_ROUTE_POLICY.predict, on), credentialFor('inference', on));
    assert.equal(credentialFor(VERTEX_ROUTE_POLICY.predict, on), 'customer-key');
  });

  it('health routes answer without a key', async () => {
    assert.equal((await fetch(g.url + '/ping')).status, 200);
    assert.equal((await fetch(g.url + HEALTH)).status, 200);
  });

  it('inference routes refuse a call without a key: 401 unauthenticated, nothing decoded', async () => {
    for (const [path, body] of [
      ['/invocations', spamBody],
      [PREDICT, { instances: ['buy now'] }],
    ] as const) {
      const res = await post(path, body);
      assert.equal(res.status, 401, path);
      assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer/);
      assert.equal(((await res.json()) as { code: string }).code, 'unauthenticated', path);
    }
  });

  it('with a key: answers with rate-limit headers and the usage record stored before the answer', async () => {
    const { key, record } = await g.admin.create({ name: 'platforms', plan: 'free' });
    const auth = { authorization: `Bearer ${key}` };
    const sm = await post('/invocations', spamBody, auth);
    assert.equal(sm.status, 200, await sm.clone().text());
    assert.ok(sm.headers.get('ratelimit'));
    const vx = await post(PREDICT, { instances: ['buy now'] }, auth);
    assert.equal(vx.status, 200);
    assert.deepEqual(await vx.json(), { predictions: [{ label: 'spam', score: 0.96875 }] });
    const records = await g.store.usageRecords({ keyId: record.id });
    assert.deepEqual(
      records.map((r) => [r.model, r.version, r.status]),
      [
        ['spam', '1', 200],
        ['spam', '1', 200],
      ],
    );
  });
});
