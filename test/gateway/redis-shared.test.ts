/** Two server processes, one Redis: a key's rate limit holds across both replicas together. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { KeyAdmin } from '../../src/gateway/key-admin.js';
import type { PlanSet } from '../../src/gateway/plans.js';
import { SqliteStore } from '../../src/gateway/store/sqlite.js';
import { makeApiRepository } from '../api/fixtures.js';
import { exited, spawnServer, type Child } from '../helpers/spawn.js';

const url = process.env.REDIS_URL;

it(
  'two replicas share one rate limit through Redis',
  { skip: url ? false : 'REDIS_URL is not set' },
  async () => {
    const repo = makeApiRepository();
    const dataDir = mkdtempSync(join(tmpdir(), 'inferd-redis-'));
    const plans: PlanSet = {
      // one request per minute of refill: only the burst of 6 can pass during the test
      plans: {
        shared: {
          requestsPerMinute: 1,
          burst: 6,
          concurrentRequests: 8,
          monthlyQuotaUnits: null,
          maxPayloadBytes: 1 << 20,
        },
      },
      modelWeights: {},
      defaultWeight: 1,
    };
    const plansFile = join(dataDir, 'plans.json');
    writeFileSync(plansFile, JSON.stringify(plans));
    const children: Child[] = [];
    try {
      const pre = new SqliteStore(join(dataDir, 'inferd.db'));
      const { key } = await new KeyAdmin(pre, ['shared']).create({ name: 'shared', plan: 'shared' });
      await pre.close();
      const args = [
        '--model-repository',
        repo,
        '--data-dir',
        dataDir,
        '--plans-file',
        plansFile,
        '--redis-url',
        url!,
      ];
      children.push(await spawnServer(args), await spawnServer(args));
      const statuses: number[] = [];
      for (let i = 0; i < 12; i++) {
        const r = await fetch(children[i % 2]!.url + '/v1/models/spam/predict', {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body: '{"text":"hello"}',
        });
        await r.arrayBuffer();
        statuses.push(r.status);
      }
      // Each replica alone would have let 6 through (12 in all); together they let exactly 6.
      assert.equal(statuses.filter((s) => s === 200).length, 6, statuses.join(','));
      assert.equal(statuses.filter((s) => s === 429).length, 6);
      assert.ok(statuses.slice(0, 6).every((s) => s === 200));
    } finally {
      for (const c of children) {
        c.proc.kill('SIGKILL');
        await exited(c.proc);
      }
      rmSync(repo, { recursive: true, force: true });
      rmSync(dataDir, { recursive: true, force: true });
    }
  },
);
