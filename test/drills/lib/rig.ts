/**
 * What every drill shares: a model repository in two versions (spam version 1, and a copy holding
 * version 2 for the rolling update), a plans file, a PostgreSQL schema and Redis keys of its own,
 * the admin token, and the inferd replicas (`node bin/inferd.js serve`, the built CLI) with their
 * settings. Keys are created through the admin API of a running replica, as an operator would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Redis } from 'ioredis';
import { SPAM_SIGNATURE, spamModel } from '../../api/fixtures.js';
import { freePort } from '../../helpers/spawn.js';
import { Haproxy, type HaproxyOptions } from './haproxy.js';
import { killAll, sleep, track } from './procs.js';

export const ADMIN_TOKEN = 'drill-admin-token-0123456789';

/** Plans of the drills (a plans file replaces the defaults, so `unlimited` is listed again). */
export interface DrillPlans {
  rateRps: number;
  rateBurst: number;
  quotaUnits: number;
}

function writeSpam(root: string, version: number): void {
  const dir = join(root, 'spam', String(version));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'model.onnx'), spamModel());
  writeFileSync(
    join(root, 'spam', 'config.json'),
    JSON.stringify({
      max_batch_size: 64,
      dynamic_batching: { max_queue_delay_microseconds: 500 },
      aliases: { production: String(version) },
      signature: SPAM_SIGNATURE,
    }),
  );
}

export interface Replica {
  proc: ChildProcess;
  port: number;
  url: string;
  /** The repository version it serves (1 or 2). */
  version: number;
}

export interface RigOptions {
  plans: DrillPlans;
  /** settings.drainDelayMs of every replica (the rolling update's server side). */
  drainDelayMs: number;
  /** Rolling update: a preStop sleep before SIGTERM, the endpoint leaving first (0 = none). */
  preStopMs?: number;
  haproxy: Omit<HaproxyOptions, 'dir'>;
}

export class Rig {
  /** Load balancer slot → the replica in it (undefined while one is starting for it). */
  private readonly serving = new Map<number, Replica | undefined>();
  /** Every API key made in this run: their Redis keys are deleted at the end. */
  private readonly keyIds: string[] = [];
  private constructor(
    readonly dir: string,
    readonly schema: string,
    readonly databaseUrl: string,
    readonly redisUrl: string,
    readonly hp: Haproxy,
    private readonly opts: RigOptions,
  ) {}

  static async start(opts: RigOptions): Promise<Rig> {
    const databaseUrl = process.env.DATABASE_URL;
    const redisUrl = process.env.REDIS_URL;
    if (!databaseUrl || !redisUrl) throw new Error('the drills need DATABASE_URL and REDIS_URL');
    const dir = mkdtempSync(join(tmpdir(), 'inferd-drill-'));
    writeSpam(join(dir, 'repo-v1'), 1);
    writeSpam(join(dir, 'repo-v2'), 2);
    const { rateRps, rateBurst, quotaUnits } = opts.plans;
    const plan = (rpm: number, burst: number, quota: number | null): object => ({
      requestsPerMinute: rpm,
      burst,
      concurrentRequests: 1024,
      monthlyQuotaUnits: quota,
      maxPayloadBytes: 1 << 20,
    });
    writeFileSync(
      join(dir, 'plans.json'),
      JSON.stringify({
        plans: {
          unlimited: plan(1_000_000, 100_000, null),
          rate: plan(rateRps * 60, rateBurst, null),
          quota: plan(1_000_000, 100_000, quotaUnits),
        },
        modelWeights: { spam: 1 },
        defaultWeight: 1,
      }),
    );
    // Our own schema: other sessions use the same database at the same time.
    const schema = `drill_${process.pid}_${Date.now().toString(36)}`;
    const hp = await Haproxy.start({ ...opts.haproxy, dir });
    return new Rig(dir, schema, databaseUrl, redisUrl, hp, opts);
  }

  get drainDelayMs(): number {
    return this.opts.drainDelayMs;
  }

  get preStopMs(): number {
    return this.opts.preStopMs ?? 0;
  }

  /** Starts one replica and waits until it answers ready (it is not in the load balancer yet). */
  async startReplica(version: number): Promise<Replica> {
    const port = await freePort();
    const args = [
      'bin/inferd.js',
      'serve',
      ...['--model-repository', join(this.dir, `repo-v${version}`)],
      ...['--host', '127.0.0.1', '--http-port', String(port), '--grpc-port', '0'],
      ...['--auth', 'on', '--admin-token', ADMIN_TOKEN],
      ...['--database-url', this.databaseUrl, '--database-schema', this.schema],
      ...['--redis-url', this.redisUrl, '--plans-file', join(this.dir, 'plans.json')],
      ...['--drain-delay-ms', String(this.opts.drainDelayMs), '--shutdown-timeout-ms', '10000'],
    ];
    const proc = track(
      spawn(process.execPath, args, {
        env: { ...process.env, INFERD_LOG_LEVEL: 'warn' },
        stdio: ['ignore', 'ignore', 'pipe'],
      }),
    );
    let err = '';
    proc.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    const url = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 1200; i++) {
      if (proc.exitCode !== null) throw new Error(`inferd exited ${proc.exitCode}: ${err}`);
      try {
        const r = await fetch(`${url}/v2/health/ready`);
        if (r.status === 200) {
          return { proc, port, url, version };
        }
      } catch {
        // not listening yet
      }
      await sleep(50);
    }
    proc.kill('SIGKILL');
    throw new Error(`inferd did not become ready: ${err}`);
  }

  /** Starts a replica in a free slot and waits until the load balancer sends it traffic. */
  async addReplica(version: number): Promise<{ slot: number; replica: Replica }> {
    const slot = this.freeSlot();
    this.serving.set(slot, undefined);
    try {
      const replica = await this.startReplica(version);
      await this.hp.attach(slot, replica.port);
      await this.hp.waitStatus(slot, 'UP');
      this.serving.set(slot, replica);
      return { slot, replica };
    } catch (err) {
      this.serving.delete(slot);
      throw err;
    }
  }

  /** Starts `n` replicas at once (a Deployment scaling up from zero). */
  async scaleUp(n: number, version: number): Promise<void> {
    await Promise.all(Array.from({ length: n }, () => this.addReplica(version)));
  }

  /** The slots of replicas in the load balancer now, in slot order. */
  slots(): number[] {
    return [...this.serving.entries()]
      .filter(([, r]) => r !== undefined)
      .map(([slot]) => slot)
      .sort((a, b) => a - b);
  }

  replicaAt(slot: number): Replica {
    const r = this.serving.get(slot);
    if (!r) throw new Error(`no replica in slot ${slot}`);
    return r;
  }

  /** The pod object is gone: its slot leaves the backend and can take a new replica. */
  async release(slot: number): Promise<void> {
    await this.hp.detach(slot);
    this.serving.delete(slot);
  }

  private freeSlot(): number {
    for (let s = 1; s <= this.opts.haproxy.slots; s++) if (!this.serving.has(s)) return s;
    throw new Error('no free load balancer slot');
  }

  /** Creates a key through POST /admin/keys (admin token) via the load balancer. */
  async createKey(name: string, plan: string): Promise<{ key: string; id: string }> {
    const res = await fetch(`${this.hp.url}/admin/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name, plan }),
    });
    const body = (await res.json()) as { key?: string; id?: string };
    if (res.status !== 201 || !body.key || !body.id) {
      throw new Error(`POST /admin/keys: ${res.status} ${JSON.stringify(body)}`);
    }
    this.keyIds.push(body.id);
    return { key: body.key, id: body.id };
  }

  /** Usage rows in PostgreSQL for a key: 2xx records and their units. */
  async usage(keyId: string): Promise<{ rows: number; units: number }> {
    const c = new pg.Client({ connectionString: this.databaseUrl });
    await c.connect();
    try {
      const r = await c.query<{ n: string; u: string | null }>(
        `SELECT count(*) AS n, sum(units) AS u FROM ${this.schema}.usage
          WHERE key_id = $1 AND status BETWEEN 200 AND 299`,
        [keyId],
      );
      return { rows: Number(r.rows[0]!.n), units: Number(r.rows[0]!.u ?? 0) };
    } finally {
      await c.end();
    }
  }

  /** Runs `fn` on a new rig and closes it, whatever happens. */
  static async with<T>(opts: RigOptions, fn: (rig: Rig) => Promise<T>): Promise<T> {
    const rig = await Rig.start(opts);
    try {
      return await fn(rig);
    } finally {
      await rig.close();
    }
  }

  /** Kills everything, drops the schema and deletes the Redis keys of this run's API keys. */
  async close(): Promise<void> {
    killAll();
    await this.hp.stop().catch(() => undefined);
    const c = new pg.Client({ connectionString: this.databaseUrl });
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS ${this.schema} CASCADE`).finally(() => c.end());
    const redis = new Redis(this.redisUrl, { maxRetriesPerRequest: 2 });
    try {
      // Only this run's keys (the limiter's prefix is shared by every inferd on this Redis).
      for (const id of this.keyIds) {
        let cursor = '0';
        do {
          const [next, keys] = await redis.scan(cursor, 'MATCH', `inferd:rl:*${id}*`, 'COUNT', 1000);
          if (keys.length > 0) await redis.del(...keys);
          cursor = next;
        } while (cursor !== '0');
      }
    } finally {
      redis.disconnect();
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
