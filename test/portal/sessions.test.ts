/**
 * Portal sessions and account key management through the real server (no browser): what a
 * session cookie may do, the CSRF and Origin checks, cookie attributes, and the owner model of
 * /v1/keys (an account manages its own keys and nothing more). SessionStore's bounds directly.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { SessionStore } from '../../src/gateway/sessions.js';
import { makeApiRepository } from '../api/fixtures.js';
import { ADMIN_TOKEN, bearer, startGatewayServer, type GatewayServer } from '../api/server.js';

describe('SessionStore bounds', () => {
  it('drops the oldest session beyond maxSessions, and ends idle and old sessions', () => {
    let t = 0;
    const s = new SessionStore({ maxSessions: 2, idleMs: 100, maxAgeMs: 1000, now: () => t });
    const a = s.create('customer', 'k1');
    const b = s.create('customer', 'k2');
    const c = s.create('admin', 'tok');
    assert.equal(s.size, 2);
    assert.equal(s.get(a.id), undefined);
    assert.equal(s.get(b.id)?.credential, 'k2');
    t = 99;
    assert.ok(s.get(c.id), 'used within the idle time');
    t = 150;
    assert.ok(s.get(c.id));
    assert.equal(s.get(b.id), undefined, 'idle for 150 ms');
    for (t = 200; t < 1000; t += 90) assert.ok(s.get(c.id));
    t = 1000;
    assert.equal(s.get(c.id), undefined, 'older than maxAgeMs');
    assert.equal(s.get('not a session id'), undefined);
  });

  it('accepts only the exact CSRF token', () => {
    const s = new SessionStore();
    const x = s.create('customer', 'k');
    assert.doesNotThrow(() => s.checkCsrf(x, x.csrf));
    for (const bad of [undefined, '', x.csrf.slice(1), 'x'.repeat(129)]) {
      assert.throws(() => s.checkCsrf(x, bad), { code: 'forbidden' });
    }
  });
});

describe('portal sessions and /v1/keys (auth on)', () => {
  let repo: string;
  let g: GatewayServer;
  let acme: string;
  let acmeScoped: string;
  let loner: string;
  let globexId: string;

  before(async () => {
    repo = makeApiRepository();
    g = await startGatewayServer(repo);
    acme = (await g.admin.create({ name: 'acme main', owner: 'acme', plan: 'pro' })).key;
    acmeScoped = (await g.admin.create({ name: 'acme spam', owner: 'acme', models: ['spam'] })).key;
    loner = (await g.admin.create({ name: 'no account' })).key;
    globexId = (await g.admin.create({ name: 'globex', owner: 'globex' })).record.id;
  });
  after(async () => {
    await g.close();
    rmSync(repo, { recursive: true, force: true });
  });

  async function signIn(token: string, headers: Record<string, string> = {}) {
    const res = await fetch(g.url + '/session', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ token }),
    });
    const body = (await res.json()) as { csrf_token?: string; kind?: string; code?: string };
    const setCookie = res.headers.get('set-cookie') ?? '';
    return { res, body, setCookie, cookie: setCookie.split(';')[0]! };
  }

  it('signs in with a key or the admin token and refuses anything else', async () => {
    const k = await signIn(acme);
    assert.equal(k.res.status, 201);
    assert.equal(k.body.kind, 'customer');
    assert.match(
      k.setCookie,
      /^inferd_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=86400$/,
    );
    const a = await signIn(ADMIN_TOKEN, { 'x-forwarded-proto': 'https' });
    assert.equal(a.body.kind, 'admin');
    assert.match(a.setCookie, /; Secure$/);
    const wrong = await signIn('ik_live_not-a-key');
    assert.equal(wrong.res.status, 401);
    assert.equal(wrong.res.headers.get('set-cookie'), null);
    const long = await signIn('x'.repeat(513));
    assert.equal(long.res.status, 400);
    const crossSite = await signIn(acme, { origin: 'https://evil.example' });
    assert.equal(crossSite.res.status, 403);
    const form = await fetch(g.url + '/session', {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify({ token: acme }),
    });
    assert.equal(form.status, 400);
  });

  it('a session cookie acts as its credential, state changes need the CSRF token and a same-host Origin', async () => {
    const { cookie, body } = await signIn(acme);
    const csrf = body.csrf_token!;
    assert.equal((await fetch(g.url + '/v1/account', { headers: { cookie } })).status, 200);
    const post = (headers: Record<string, string>) =>
      fetch(g.url + '/v1/models/spam/predict', {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/json', ...headers },
        body: '{"text":"hello"}',
      });
    assert.equal((await post({})).status, 403);
    assert.equal((await post({ 'x-csrf-token': 'nope' })).status, 403);
    const host = new URL(g.url).host;
    assert.equal((await post({ 'x-csrf-token': csrf, origin: 'https://evil.example' })).status, 403);
    assert.equal((await post({ 'x-csrf-token': csrf, origin: `http://${host}` })).status, 200);
    // A customer session is not the admin token.
    assert.equal((await fetch(g.url + '/admin/keys', { headers: { cookie } })).status, 403);
    // Sign-out needs the token too, then the cookie is dead.
    assert.equal((await fetch(g.url + '/session', { method: 'DELETE', headers: { cookie } })).status, 403);
    const out = await fetch(g.url + '/session', {
      method: 'DELETE',
      headers: { cookie, 'x-csrf-token': csrf },
    });
    assert.equal(out.status, 204);
    assert.match(out.headers.get('set-cookie') ?? '', /Max-Age=0/);
    assert.equal((await fetch(g.url + '/v1/account', { headers: { cookie } })).status, 401);
  });

  it('an admin session reaches /admin and the /v2 repository API', async () => {
    const { cookie, body } = await signIn(ADMIN_TOKEN);
    assert.equal((await fetch(g.url + '/admin/keys', { headers: { cookie } })).status, 200);
    const idx = await fetch(g.url + '/v2/repository/index', {
      method: 'POST',
      headers: { cookie, 'x-csrf-token': body.csrf_token! },
    });
    assert.equal(idx.status, 200);
  });

  it('an account lists, creates, rotates and revokes its own keys, and no one else’s', async () => {
    const list = (await (await fetch(g.url + '/v1/keys', { headers: bearer(acme) })).json()) as {
      account: string;
      keys: Array<{ id: string; name: string; current: boolean; last_used_at: string | null }>;
    };
    assert.equal(list.account, 'acme');
    assert.deepEqual(list.keys.map((k) => k.name).sort(), ['acme main', 'acme spam']);
    assert.ok(list.keys.find((k) => k.name === 'acme main')!.current);

    const created = await fetch(g.url + '/v1/keys', {
      method: 'POST',
      headers: bearer(acme),
      body: JSON.stringify({ name: 'ci', expires_in: '1d' }),
    });
    assert.equal(created.status, 201);
    const c = (await created.json()) as { key: string; id: string; owner: string; plan: string };
    assert.equal(c.owner, 'acme');
    assert.equal(c.plan, 'pro', "the creator's plan");

    const rotated = await fetch(g.url + `/v1/keys/${c.id}/rotate`, {
      method: 'POST',
      headers: bearer(acme),
      body: '{"grace":"0s"}',
    });
    assert.equal(rotated.status, 200);
    assert.equal((await fetch(g.url + '/v1/usage', { headers: bearer(c.key) })).status, 401);

    const other = await fetch(g.url + `/v1/keys/${globexId}/revoke`, {
      method: 'POST',
      headers: bearer(acme),
    });
    assert.equal(other.status, 404);
    assert.equal((await g.store.getKey(globexId))!.revokedAt, null);

    const widen = await fetch(g.url + '/v1/keys', {
      method: 'POST',
      headers: bearer(acmeScoped),
      body: JSON.stringify({ name: 'wider', models: ['spam', 'ocr_echo'] }),
    });
    assert.equal(widen.status, 403);
    const inherit = await fetch(g.url + '/v1/keys', {
      method: 'POST',
      headers: bearer(acmeScoped),
      body: JSON.stringify({ name: 'narrow' }),
    });
    assert.deepEqual(((await inherit.json()) as { scopes: string[] }).scopes, ['spam']);

    const lonerList = (await (await fetch(g.url + '/v1/keys', { headers: bearer(loner) })).json()) as {
      keys: unknown[];
    };
    assert.equal(lonerList.keys.length, 1);
    const lonerCreate = await fetch(g.url + '/v1/keys', {
      method: 'POST',
      headers: bearer(loner),
      body: '{"name":"x"}',
    });
    assert.equal(lonerCreate.status, 403);
  });

  it('GET /v1/account reports quota left and the recent errors with their request ids', async () => {
    await fetch(g.url + '/v1/models/spam/predict', {
      method: 'POST',
      headers: bearer(acme),
      body: '{"text":"hi"}',
    });
    const bad = await fetch(g.url + '/v1/models/spam/predict', {
      method: 'POST',
      headers: bearer(acme),
      body: '{}',
    });
    assert.equal(bad.status, 400);
    const a = (await (await fetch(g.url + '/v1/account', { headers: bearer(acme) })).json()) as {
      quota: { used_units: number; limit_units: number; remaining_units: number };
      recent_errors: Array<{ request_id: string; status: number; path: string }>;
    };
    assert.ok(a.quota.used_units >= 1);
    assert.equal(a.quota.remaining_units, a.quota.limit_units - a.quota.used_units);
    assert.deepEqual(
      {
        id: a.recent_errors[0]!.request_id,
        status: a.recent_errors[0]!.status,
        path: a.recent_errors[0]!.path,
      },
      { id: bad.headers.get('x-request-id'), status: 400, path: '/v1/models/spam/predict' },
    );
    const models = (await (await fetch(g.url + '/v1/models', { headers: bearer(acme) })).json()) as {
      models: Array<{ name: string; signature: { inputs: unknown[] } }>;
    };
    assert.ok(models.models.some((m) => m.name === 'spam' && m.signature.inputs.length === 1));
  });
});
