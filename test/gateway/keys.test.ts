/** Key format, checksum, hashing, durations, and the `inferd keys` CLI against a real data dir. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { generateKey, hashKey, isWellFormedKey, KEY_PATTERN, parseDuration } from '../../src/gateway/keys.js';
import { SqliteStore } from '../../src/gateway/store/sqlite.js';

const run = promisify(execFile);

describe('key format', () => {
  it('ik_live_ + 43 base62 + 6-char checksum; unique; test keys differ', () => {
    const a = generateKey();
    const b = generateKey();
    assert.match(a.key, KEY_PATTERN);
    assert.equal(a.key.length, 8 + 43 + 6);
    assert.notEqual(a.key, b.key);
    assert.ok(isWellFormedKey(a.key));
    assert.match(generateKey('test').key, /^ik_test_/);
    assert.equal(a.hash, hashKey(a.key));
    assert.match(a.hash, /^[0-9a-f]{64}$/);
    assert.equal(a.prefix, a.key.slice(8, 16));
  });

  it('any single changed character fails the checksum', () => {
    const { key } = generateKey();
    for (let i = 8; i < key.length; i++) {
      const c = key[i] === 'A' ? 'B' : 'A';
      assert.equal(isWellFormedKey(key.slice(0, i) + c + key.slice(i + 1)), false, `position ${i}`);
    }
    assert.equal(isWellFormedKey(key.replace('ik_live_', 'ik_prod_')), false);
    assert.equal(isWellFormedKey(key + 'x'), false);
  });

  it('durations', () => {
    assert.equal(parseDuration('30d'), 30 * 86_400_000);
    assert.equal(parseDuration('24h'), 86_400_000);
    assert.equal(parseDuration('1.5s'), 1500);
    assert.throws(() => parseDuration('soon'), /invalid duration/);
  });
});

describe('inferd keys (CLI)', () => {
  it('create prints the key alone on stdout; list never shows it; rotate and revoke by id or value', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'inferd-cli-'));
    const cli = (...args: string[]) =>
      run(process.execPath, ['bin/inferd.js', 'keys', ...args, '--data-dir', dataDir]);
    try {
      const c = await cli(
        'create',
        '--name',
        'ci bot',
        '--plan',
        'pro',
        '--models',
        'spam,ocr',
        '--expires',
        '30d',
      );
      const key = c.stdout.trim();
      assert.ok(isWellFormedKey(key), c.stdout);
      assert.equal(c.stdout, `${key}\n`);
      assert.match(c.stderr, /plan=pro models=spam,ocr/);

      const store = new SqliteStore(join(dataDir, 'inferd.db'));
      const rec = (await store.listKeys())[0]!;
      assert.equal(rec.hash, hashKey(key));
      assert.deepEqual(rec.scopes, ['spam', 'ocr']);
      assert.ok(rec.expiresAt! - rec.createdAt === 30 * 86_400_000);

      const l = await cli('list');
      assert.match(l.stdout, new RegExp(`id=${rec.id} prefix=${rec.prefix} .* state=active`));
      assert.ok(!l.stdout.includes(key));

      const r = await cli('rotate', key, '--grace', '1h');
      const newKey = r.stdout.trim();
      assert.ok(isWellFormedKey(newKey) && newKey !== key);
      const rotated = await store.findKeyByHash(hashKey(newKey));
      assert.equal(rotated?.rotatedFrom, rec.id);
      assert.ok((await store.getKey(rec.id))!.expiresAt! <= Date.now() + 3_600_000);

      const v = await cli('revoke', rotated!.id);
      assert.match(v.stdout, new RegExp(`revoked ${rotated!.id}`));
      assert.ok((await store.getKey(rotated!.id))!.revokedAt !== null);
      await assert.rejects(cli('revoke', 'key_nope'), /no API key/);
      await assert.rejects(cli('create', '--name', 'x', '--plan', 'gold'), /unknown plan 'gold'/);
      await store.close();

      // Only a hash is stored: the key text appears nowhere in the data dir.
      for (const f of readdirSync(dataDir)) {
        assert.ok(!readFileSync(join(dataDir, f)).toString('latin1').includes(key), f);
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
