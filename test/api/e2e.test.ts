/**
 * End to end, as a customer would: a key made with the CLI, the real spam model called through /v1
 * with the SDK, rate-limit headers, 429 at the plan's burst, usage read back, and the key revoked
 * with the CLI failing within one second. Run once on SQLite + in-process limits and once on
 * PostgreSQL + Redis (skipped without DATABASE_URL / REDIS_URL).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import type { SettingsInput } from '../../src/config.js';
import type { PlanSet } from '../../src/gateway/plans.js';
import { PostgresStore } from '../../src/gateway/store/postgres.js';
import type { RunningServer } from '../../src/server.js';
import { AuthenticationError, InferdClient, RateLimitError } from '../../sdk/index.js';
import { startTestServer } from '../helpers/server.js';
import { makeApiRepository } from './fixtures.js';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const BURST = 6;

const PLANS: PlanSet = {
  // refills one request per minute: only the burst passes during the test
  plans: {
    e2e: {
      requestsPerMinute: 1,
      burst: BURST,
      concurrentRequests: 4,
      monthlyQuotaUnits: 1000,
      maxPayloadBytes: 1 << 20,
    },
  },
  modelWeights: { spam: 1 },
  defaultWeight: 1,
};

/** The real spam model when models/spam exists, else the fixture spam model (same tensors). */
function repository(): string {
  const repo = makeApiRepository();
  if (existsSync('models/spam/1/model.onnx')) {
    rmSync(join(repo, 'spam'), { recursive: true, force: true });
    cpSync('models/spam', join(repo, 'spam'), { recursive: true });
  }
  return repo;
}

function e2e(name: string, backend: () => { settings: SettingsInput; cli: string[] } | string) {
  describe(`customer API end to end: ${name}`, () => {
    const cfg = backend();
    if (typeof cfg === 'string') {
      it('skipped', { skip: cfg }, () => {});
      return;
    }
    let repo: string;
    let dataDir: string;
    let server: RunningServer;
    let cli: (...args: string[]) => Promise<{ stdout: string; stderr: string }>;
    let key: string;

    before(async () => {
      repo = repository();
      dataDir = mkdtempSync(join(tmpdir(), 'inferd-e2e-'));
      const plansFile = join(dataDir, 'plans.json');
      writeFileSync(plansFile, JSON.stringify(PLANS));
      const common = ['--data-dir', dataDir, '--plans-file', plansFile, ...cfg.cli];
      cli = (...args) => run(process.execPath, ['bin/inferd.js', 'keys', ...args, ...common]);
      server = await startTestServer(repo, { auth: 'on', dataDir, plansFile, ...cfg.settings });
      key = (await cli('create', '--name', `e2e ${name}`, '--plan', 'e2e', '--models', 'spam')).stdout.trim();
    });
    after(async () => {
      await server?.close();
      const s = cfg.settings;
      if (s.databaseUrl) {
        const pg = await PostgresStore.open(String(s.databaseUrl), String(s.databaseSchema));
        await pg.dropSchema();
        await pg.close();
      }
      rmSync(repo, { recursive: true, force: true });
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('predicts with the SDK, shows rate-limit headers, 429 at the burst, usage, revocation', async () => {
      const client = new InferdClient({ apiKey: key, baseUrl: server.httpUrl, maxRetries: 0 });
      const one = await client.predict<{ label: string; score: number }>('spam', {
        text: 'Subject: You have WON a prize\n\nCongratulations! Click here to claim your free gift card now.',
      });
      assert.equal(one.label, 'spam');
      assert.ok(one.score > 0.5 && one.score <= 1, String(one.score));
      assert.equal(client.lastRateLimit?.limit, 1);
      assert.equal(client.lastRateLimit?.remaining, BURST - 1);
      assert.equal(client.lastRateLimit?.policy, '"default";q=1;w=60');

      const many = await client.predict<{ results: Array<{ label: string; score: number }> }>(
        'spam',
        { texts: ['Hi Bob, lunch tomorrow at noon? Alice', 'buy now'] },
        { version: 'production' },
      );
      assert.equal(many.results.length, 2);
      assert.ok(
        many.results.every((r) => (r.label === 'spam' || r.label === 'ham') && r.score >= 0 && r.score <= 1),
      );

      let ok = 2;
      let limited: RateLimitError | undefined;
      for (let i = 0; i < BURST + 2 && !limited; i++) {
        try {
          await client.predict('spam', { text: `message ${i}` });
          ok += 1;
        } catch (err) {
          if (!(err instanceof RateLimitError)) throw err;
          limited = err;
        }
      }
      assert.equal(ok, BURST);
      assert.ok(limited, 'no 429 after the burst');
      assert.equal(limited.status, 429);
      assert.equal(limited.code, 'rate_limited');
      assert.ok(limited.requestId && limited.retryAfter !== undefined && limited.retryAfter >= 1);

      const usage = await client.usage();
      assert.deepEqual(
        usage.days.map((d) => [d.model, d.requests, d.units, d.errors]),
        [['spam', BURST + 1, BURST, 1]],
      );
      assert.equal(usage.total.units, BURST);

      const id = (await cli('list', '--json')).stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { id: string; name: string })
        .find((k) => k.name === `e2e ${name}`)!.id;
      await cli('revoke', id);
      await sleep(1000);
      await assert.rejects(client.usage(), (err: unknown) => {
        assert.ok(err instanceof AuthenticationError);
        assert.equal(err.code, 'revoked_api_key');
        assert.equal(err.status, 401);
        return true;
      });
    });
  });
}

e2e('SQLite + in-process limits', () => ({ settings: {}, cli: [] }));

e2e('PostgreSQL + Redis', () => {
  const db = process.env.DATABASE_URL;
  const redis = process.env.REDIS_URL;
  if (!db || !redis) return 'DATABASE_URL and REDIS_URL must both be set';
  const schema = `t_e2e_${process.pid}_${Date.now().toString(36)}`;
  return {
    settings: { databaseUrl: db, databaseSchema: schema, redisUrl: redis },
    cli: ['--database-url', db, '--database-schema', schema],
  };
});
