import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { it } from 'node:test';
import Database from 'better-sqlite3';
import { SqliteStore } from '../../src/gateway/store/sqlite.js';
import { key, storeConformance } from './conformance.js';

const dir = mkdtempSync(join(tmpdir(), 'inferd-store-'));
storeConformance(
  'sqlite',
  async () => new SqliteStore(join(dir, 'inferd.db')),
  async (s) => {
    await s.close();
  },
);

it('sqlite: WAL mode, migrations applied once, data survives reopening', async () => {
  const path = join(dir, 'reopen.db');
  const a = new SqliteStore(path);
  await a.createKey(key('key_persist'));
  await a.close();
  const b = new SqliteStore(path);
  assert.equal((await b.getKey('key_persist'))?.id, 'key_persist');
  await b.close();
  const raw = new Database(path);
  assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
  assert.deepEqual(raw.prepare('SELECT version FROM schema_migrations').all(), [
    { version: 1 },
    { version: 2 },
    { version: 3 },
    { version: 4 },
  ]);
  raw.close();
  rmSync(dir, { recursive: true, force: true });
});

it('sqlite: processes opening a new file at the same time migrate one after the other', async () => {
  const { spawn } = await import('node:child_process');
  const { fileURLToPath } = await import('node:url');
  const d = mkdtempSync(join(tmpdir(), 'inferd-race-'));
  const path = join(d, 'race.db');
  const mod = fileURLToPath(new URL('../../src/gateway/store/sqlite.js', import.meta.url));
  const code = `import(${JSON.stringify(mod)}).then(async (m) => { const s = new m.SqliteStore(${JSON.stringify(path)}); await s.close(); })`;
  const exits = await Promise.all(
    Array.from({ length: 4 }, () => {
      const p = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: 'inherit' });
      return new Promise<number | null>((r) => p.on('exit', (c) => r(c)));
    }),
  );
  assert.deepEqual(exits, [0, 0, 0, 0]);
  const raw = new Database(path);
  assert.deepEqual(raw.prepare('SELECT version FROM schema_migrations').all(), [
    { version: 1 },
    { version: 2 },
    { version: 3 },
    { version: 4 },
  ]);
  raw.close();
  rmSync(d, { recursive: true, force: true });
});
