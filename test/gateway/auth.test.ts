/** apiKeyAuth on /v1: every refusal has its own code; keys never reach the logs. */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { generateKey } from '../../src/gateway/keys.js';
import { loadSettings } from '../../src/config.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { makeApiRepository } from '../api/fixtures.js';
import { ADMIN_TOKEN, bearer, startGatewayServer, type GatewayServer } from '../api/server.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('API key authentication', () => {
  let repo: string;
  let g: GatewayServer;
  let key: string;
  before(async () => {
    repo = makeApiRepository();
    g = await startGatewayServer(repo);
    key = (await g.admin.create({ name: 'auth', plan: 'unlimited', models: ['spam'] })).key;
  });
  after(async () => {
    await g.close();
    rmSync(repo, { recursive: true, force: true });
  });

  async function call(headers: Record<string, string>, path = '/v1/models/spam/predict') {
    const r = await fetch(g.url + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ text: 'hi' }),
    });
    const body = (await r.json()) as { code?: string; detail?: string };
    return { status: r.status, code: body.code, detail: body.detail, headers: r.headers };
  }

  it('a valid key with the model in scope passes', async () => {
    assert.equal((await call(bearer(key))).status, 200);
  });

  it('missing → 401 unauthenticated with WWW-Authenticate', async () => {
    const r = await call({});
    assert.deepEqual([r.status, r.code], [401, 'unauthenticated']);
    assert.match(r.headers.get('www-authenticate') ?? '', /^Bearer/);
  });

  it('malformed, bad checksum, unknown, wrong scheme → 401 invalid_api_key', async () => {
    const tampered = key.slice(0, 10) + (key[10] === 'a' ? 'b' : 'a') + key.slice(11);
    for (const h of [
      'Bearer nope',
      `Bearer ${tampered}`,
      `Bearer ${generateKey().key}`,
      `Basic ${Buffer.from('u:p').toString('base64')}`,
      `Bearer ${key} extra`,
    ]) {
      const r = await call({ authorization: h });
      assert.deepEqual([r.status, r.code], [401, 'invalid_api_key'], h.slice(0, 12));
    }
  });

  it('a key in the query string is refused with a clear message', async () => {
    const r = await call({}, `/v1/models/spam/predict?api_key=${key}`);
    assert.equal(r.status, 400);
    assert.match(r.detail ?? '', /not accepted in the URL/);
    assert.ok(!(r.detail ?? '').includes(key));
  });

  it('a model outside the key scope → 403 forbidden', async () => {
    const r = await call(bearer(key), '/v1/models/ocr_echo/predict');
    assert.deepEqual([r.status, r.code], [403, 'forbidden']);
  });

  it('expired → 401 expired_api_key', async () => {
    const k = await g.admin.create({ name: 'short', plan: 'unlimited', expiresInMs: 1 });
    await sleep(5);
    const r = await call(bearer(k.key));
    assert.deepEqual([r.status, r.code], [401, 'expired_api_key']);
  });

  it('revoked → 401 revoked_api_key within one second', async () => {
    const k = await g.admin.create({ name: 'to revoke', plan: 'unlimited' });
    assert.equal((await call(bearer(k.key))).status, 200);
    await g.admin.revoke(k.record.id);
    await sleep(1000);
    const r = await call(bearer(k.key));
    assert.deepEqual([r.status, r.code], [401, 'revoked_api_key']);
  });

  it('rotation: the new key works and the old one until its grace period ends', async () => {
    const k = await g.admin.create({ name: 'rotate me', plan: 'unlimited' });
    const r = await g.admin.rotate(k.record.id, 60_000);
    assert.equal(r.record.rotatedFrom, k.record.id);
    assert.ok(r.old.expiresAt !== null && r.old.expiresAt > Date.now());
    assert.equal((await call(bearer(r.key))).status, 200);
    assert.equal((await call(bearer(k.key))).status, 200);
    const now = await g.admin.rotate(r.key, 0);
    await sleep(1000);
    assert.equal((await call(bearer(r.key))).code, 'revoked_api_key');
    assert.equal((await call(bearer(now.key))).status, 200);
  });

  it('the admin API takes only the admin token, never a customer key', async () => {
    const asCustomer = await fetch(g.url + '/admin/keys', { headers: { authorization: `Bearer ${key}` } });
    assert.equal(asCustomer.status, 403);
    const none = await fetch(g.url + '/admin/keys');
    assert.equal(none.status, 401);
    const ok = await fetch(g.url + '/admin/keys', { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    assert.equal(ok.status, 200);
    const list = (await ok.json()) as { keys: Array<Record<string, unknown>> };
    assert.ok(list.keys.length >= 1);
    assert.ok(list.keys.every((k) => !('hash' in k)));
  });
});

describe('keys never reach the logs', () => {
  it('the authorization header and query keys are absent from every log line', async () => {
    const repo = makeApiRepository();
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _e, cb) {
        lines.push(chunk.toString());
        cb();
      },
    });
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dataDir = mkdtempSync(join(tmpdir(), 'inferd-log-'));
    const settings = loadSettings(
      {
        modelRepository: repo,
        host: '127.0.0.1',
        httpPort: 0,
        grpcPort: 0,
        auth: 'on',
        dataDir,
        logLevel: 'trace',
      },
      {},
    );
    let server: RunningServer | undefined;
    try {
      server = await startServer(settings, { logger: pino({ level: 'trace' }, sink) });
      const k = generateKey().key;
      await fetch(server.httpUrl + '/v1/models/spam/predict', {
        method: 'POST',
        headers: bearer(k),
        body: '{"text":"x"}',
      });
      await fetch(server.httpUrl + `/v1/models/spam/predict?api_key=${k}`, { method: 'POST', body: '{}' });
      await sleep(50);
      const all = lines.join('');
      assert.ok(all.includes('/v1/models/spam/predict'), 'the requests were logged');
      assert.ok(!all.includes(k), 'a key appeared in the logs');
    } finally {
      await server?.close();
      rmSync(repo, { recursive: true, force: true });
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
