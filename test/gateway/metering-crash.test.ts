/**
 * Metering durability: every acknowledged /v1 call is in the store even when the server is killed
 * with SIGKILL right after (no shutdown hook runs), because the record commits before the response.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { KeyAdmin } from '../../src/gateway/key-admin.js';
import { DEFAULT_PLANS } from '../../src/gateway/plans.js';
import { SqliteStore } from '../../src/gateway/store/sqlite.js';
import { makeApiRepository } from '../api/fixtures.js';
import { exited, spawnServer } from '../helpers/spawn.js';

it('kill -9 after N acknowledged calls: all N usage records survive', async () => {
  const repo = makeApiRepository();
  const dataDir = mkdtempSync(join(tmpdir(), 'inferd-crash-'));
  try {
    const pre = new SqliteStore(join(dataDir, 'inferd.db'));
    const { key, record } = await new KeyAdmin(pre, Object.keys(DEFAULT_PLANS.plans)).create({
      name: 'crash',
      plan: 'unlimited',
    });
    await pre.close();

    const child = await spawnServer(['--model-repository', repo, '--data-dir', dataDir, '--auth', 'on']);
    const N = 40;
    let acked = 0;
    // 8 at a time, so that group commit batches several records per transaction.
    for (let i = 0; i < N; i += 8) {
      const res = await Promise.all(
        Array.from({ length: 8 }, (_, j) =>
          fetch(child.url + '/v1/models/spam/predict', {
            method: 'POST',
            headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
            body: JSON.stringify({ text: `message ${i + j}` }),
          }),
        ),
      );
      for (const r of res) {
        assert.equal(r.status, 200);
        await r.arrayBuffer();
        acked += 1;
      }
    }
    child.proc.kill('SIGKILL');
    await exited(child.proc);
    assert.equal(child.proc.signalCode, 'SIGKILL');

    const after = new SqliteStore(join(dataDir, 'inferd.db'));
    const recs = await after.usageRecords({ keyId: record.id });
    await after.close();
    assert.equal(acked, N);
    assert.equal(recs.length, N);
    assert.ok(
      recs.every((r) => r.model === 'spam' && r.status === 200 && r.units === 1 && r.version === '1'),
    );
  } finally {
    rmSync(repo, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  }
});
