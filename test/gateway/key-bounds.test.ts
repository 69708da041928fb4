/**
 * Issue 23, finding 9: `--expires 99999999999d` stored an expiry beyond a JavaScript Date's range,
 * after which `inferd keys list` failed for every key; key names had no length limit. Both are
 * validated now (CLI and admin API), and listings survive a bad stored value.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateKey, newKeyId } from '../../src/gateway/keys.js';
import { SqliteStore } from '../../src/gateway/store/sqlite.js';
import { makeApiRepository } from '../api/fixtures.js';
import { ADMIN_TOKEN, startGatewayServer, type GatewayServer } from '../api/server.js';

const cli = (...args: string[]) =>
  spawnSync(process.execPath, ['bin/inferd.js', ...args], {
    encoding: 'utf8',
    env: { ...process.env, INFERD_DATABASE_URL: '', INFERD_DATA_DIR: '' },
  });

describe('inferd keys: bounded expiry and name', () => {
  let dataDir: string;
  before(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'inferd-keys-'));
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('refuses an expiry beyond 100 years and a name over 128 characters, storing nothing', () => {
    const far = cli('keys', 'create', '--name', 'far', '--expires', '99999999999d', '--data-dir', dataDir);
    assert.equal(far.status, 1, far.stderr);
    assert.match(far.stderr, /too long: at most 36500d/);
    assert.equal(far.stdout, '', 'no key printed');
    const long = cli('keys', 'create', '--name', 'n'.repeat(10_000), '--data-dir', dataDir);
    assert.equal(long.status, 1);
    assert.match(long.stderr, /10000 characters long; the limit is 128/);
    const ok = cli('keys', 'create', '--name', 'ok', '--expires', '36500d', '--data-dir', dataDir);
    assert.equal(ok.status, 0, ok.stderr);
    const list = cli('keys', 'list', '--data-dir', dataDir);
    assert.equal(list.status, 0, list.stderr);
    assert.equal(list.stdout.trim().split('\n').length, 1, 'only the valid key was stored');
  });

  it('lists every key even when one row holds an expiry no Date can hold', async () => {
    const store = new SqliteStore(join(dataDir, 'inferd.db'));
    const g = generateKey();
    const id = newKeyId();
    await store.createKey({
      id,
      prefix: g.prefix,
      hash: g.hash,
      name: 'written before the bounds',
      owner: null,
      plan: 'free',
      scopes: null,
      createdAt: Date.now(),
      expiresAt: 99999999999 * 86_400_000,
      revokedAt: null,
      rotatedFrom: null,
    });
    await store.close();
    const list = cli('keys', 'list', '--data-dir', dataDir);
    assert.equal(list.status, 0, list.stderr);
    const lines = list.stdout.trim().split('\n');
    assert.equal(lines.length, 2, list.stdout);
    assert.match(list.stdout, new RegExp(`id=${id} .*expires=invalid time \\(8639999999913600000\\)`));
    const json = cli('keys', 'list', '--json', '--data-dir', dataDir);
    assert.equal(json.status, 0, json.stderr);
    assert.equal(json.stdout.trim().split('\n').length, 2);
  });
});

describe('admin API: bounded expiry and name', () => {
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

  const create = (body: unknown) =>
    fetch(`${g.url}/admin/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('POST /admin/keys refuses a far expiry, a long name, owner or scope with 400 invalid_request', async () => {
    for (const body of [
      { name: 'far', expires_in: '99999999999d' },
      { name: 'far', expires_in: `${'9'.repeat(400)}d` },
      { name: 'n'.repeat(10_000) },
      { name: 'owner', owner: 'o'.repeat(10_000) },
      { name: 'models', models: Array.from({ length: 1000 }, (_, i) => `m${i}`) },
      { name: 'model', models: ['m'.repeat(10_000)] },
    ]) {
      const r = await create(body);
      assert.equal(r.status, 400, JSON.stringify(body).slice(0, 60));
      const p = (await r.json()) as { code: string; detail: string };
      assert.equal(p.code, 'invalid_request');
      assert.ok(p.detail.length < 300, 'the message does not echo the input');
    }
    const listed = (await (
      await fetch(`${g.url}/admin/keys`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
    ).json()) as { keys: unknown[] };
    assert.equal(listed.keys.length, 0, 'nothing was stored');
    assert.equal((await create({ name: 'fine', expires_in: '30d' })).status, 201);
  });
});
