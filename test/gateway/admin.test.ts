/** The admin API (its own token) and `--auth off` (no gateway, loud warning). */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { loadSettings } from '../../src/config.js';
import { startServer } from '../../src/server.js';
import { makeApiRepository } from '../api/fixtures.js';
import { ADMIN_TOKEN, bearer, startGatewayServer, type GatewayServer } from '../api/server.js';
import { startTestServer } from '../helpers/server.js';

describe('admin API', () => {
  let repo: string;
  let g: GatewayServer;
  before(async () => {
    repo = makeApiRepository();
    g = await startGatewayServer(repo);
  });
  after(async () => {
    await g.close();
    rmSync(repo, { recursive: true, force: true });
  });

  const admin = (method: string, path: string, body?: unknown) =>
    fetch(g.url + path, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  it('creates, rotates and revokes keys; exports usage as JSON and CSV', async () => {
    const c = await admin('POST', '/admin/keys', {
      name: 'acme, "prod"',
      plan: 'pro',
      models: ['spam'],
      expires_in: '7d',
    });
    assert.equal(c.status, 201);
    const created = (await c.json()) as {
      key: string;
      id: string;
      plan: string;
      scopes: string[];
      hash?: string;
    };
    assert.equal(created.plan, 'pro');
    assert.deepEqual(created.scopes, ['spam']);
    assert.equal(created.hash, undefined);

    for (const text of ['buy now', 'hello']) {
      const r = await fetch(g.url + '/v1/models/spam/predict', {
        method: 'POST',
        headers: bearer(created.key),
        body: JSON.stringify({ text }),
      });
      assert.equal(r.status, 200);
    }

    const json = (await (await admin('GET', `/admin/usage?key_id=${created.id}`)).json()) as {
      records: Array<{ keyId: string; model: string; status: number; units: number; time: string }>;
    };
    assert.deepEqual(
      json.records.map((r) => [r.keyId, r.model, r.status, r.units]),
      [
        [created.id, 'spam', 200, 1],
        [created.id, 'spam', 200, 1],
      ],
    );
    const csv = await admin('GET', `/admin/usage?format=csv&key_id=${created.id}`);
    assert.match(csv.headers.get('content-type') ?? '', /^text\/csv/);
    const rows = (await csv.text()).trim().split('\r\n');
    assert.equal(rows[0], 'time,keyId,model,version,status,units,latencyMs');
    assert.equal(rows.length, 3);
    // Every value cell quoted (OWASP CSV injection guidance); the header row names fixed columns.
    assert.match(
      rows[1]!,
      new RegExp(`^"\\d{4}-\\d\\d-\\d\\dT[^"]+","${created.id}","spam","1","200","1","[\\d.]+"$`),
    );
    assert.equal((await admin('GET', '/admin/usage?format=xml')).status, 400);

    const rot = await admin('POST', `/admin/keys/${created.id}/rotate`, { grace: '0s' });
    const rotated = (await rot.json()) as { key: string; rotatedFrom: string; old: { revokedAt: number } };
    assert.equal(rotated.rotatedFrom, created.id);
    assert.ok(rotated.old.revokedAt > 0);
    const rev = await admin('POST', `/admin/keys/${rotated.key}/revoke`);
    assert.equal(rev.status, 200);
    assert.ok(((await rev.json()) as { revokedAt: number }).revokedAt > 0);
    assert.equal((await admin('POST', '/admin/keys/key_missing/revoke')).status, 404);
    const bad = await admin('POST', '/admin/keys', { plan: 'pro' });
    assert.equal(bad.status, 400);
    assert.match(bad.headers.get('content-type') ?? '', /problem\+json/);
  });

  it('is not mounted without an admin token', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'inferd-noadmin-'));
    const s = await startTestServer(repo, { auth: 'on', dataDir, adminToken: undefined });
    try {
      assert.equal((await fetch(s.httpUrl + '/admin/keys', { headers: bearer(ADMIN_TOKEN) })).status, 404);
    } finally {
      await s.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('--auth off', () => {
  it('serves /v1 without a key, without rate-limit headers, and warns loudly at start-up', async () => {
    const repo = makeApiRepository();
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _e, cb) {
        lines.push(chunk.toString());
        cb();
      },
    });
    const settings = loadSettings(
      { modelRepository: repo, host: '127.0.0.1', httpPort: 0, grpcPort: 0, auth: 'off' },
      {},
    );
    const s = await startServer(settings, { logger: pino({ level: 'info' }, sink) });
    try {
      const r = await fetch(s.httpUrl + '/v1/models/spam/predict', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"text":"buy now"}',
      });
      assert.equal(r.status, 200);
      assert.deepEqual(await r.json(), { label: 'spam', score: 0.96875 });
      assert.equal(r.headers.get('ratelimit'), null);
      const u = await fetch(s.httpUrl + '/v1/usage');
      assert.equal(u.status, 501);
      const warn = lines
        .map((l) => JSON.parse(l) as { level: number; msg: string })
        .find((l) => /AUTH IS OFF/.test(l.msg));
      assert.ok(warn && warn.level === 40, 'a warn-level line says auth is off');
    } finally {
      await s.close();
      rmSync(repo, { recursive: true, force: true });
    }
  });
});
