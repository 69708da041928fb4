/**
 * PostgreSQL store (pg Pool), for replicas that share keys and usage. A usage write resolves after
 * COMMIT, so it is durable when the response goes out. Tables live in one schema (default `inferd`)
 * so tests can use a fresh schema per run.
 */
import pg from 'pg';
import {
  checkIds,
  KEY_COLUMNS,
  keyFromRow,
  keyToValues,
  totalFromRow,
  usageFromRow,
  usageWhere,
  type KeyRow,
  type TotalRow,
  type UsageRow,
} from './rows.js';
import {
  correctValue,
  exampleFromRow,
  examplesSql,
  feedbackTables,
  lastPerRequest,
  PREDICTION_COLUMNS,
  predictionFromRow,
  predictionToValues,
  type ExampleRow,
  type PredictionRow,
} from './feedback-rows.js';
import type {
  ApiKeyRecord,
  FeedbackExample,
  FeedbackRecord,
  PredictionRecord,
  Store,
  UsageQuery,
  UsageRecord,
  UsageTotal,
} from './types.js';
import { ROLLOUT_SQL, rolloutFromRow, rolloutToJson, type RolloutRow } from './rollout-rows.js';
import type { RolloutState } from '../../service/rollout/state.js';

const MIGRATIONS: string[] = [
  `CREATE TABLE api_keys (
     id TEXT PRIMARY KEY, prefix TEXT NOT NULL, hash TEXT NOT NULL UNIQUE, name TEXT NOT NULL,
     owner TEXT, plan TEXT NOT NULL, scopes TEXT, created_at BIGINT NOT NULL,
     expires_at BIGINT, revoked_at BIGINT, rotated_from TEXT);
   CREATE TABLE usage (
     id BIGSERIAL PRIMARY KEY, key_id TEXT NOT NULL, model TEXT NOT NULL, version TEXT NOT NULL,
     status INTEGER NOT NULL, units BIGINT NOT NULL, latency_ms DOUBLE PRECISION NOT NULL,
     time BIGINT NOT NULL);
   CREATE INDEX usage_key_time ON usage (key_id, time);`,
  // Accounts list their keys by owner (/v1/keys).
  `CREATE INDEX api_keys_owner ON api_keys (owner);`,
  // The prediction log and its feedback (docs/lifecycle.md#feedback-and-drift).
  feedbackTables('BIGINT'),
  // Rollout states (src/service/rollout/).
  ROLLOUT_SQL.postgres,
];

const SCHEMA = /^[a-z_][a-z0-9_]{0,62}$/;
const $ = (i: number): string => `$${i}`;

export class PostgresStore implements Store {
  readonly kind = 'postgres' as const;
  private constructor(
    private readonly pool: pg.Pool,
    readonly schema: string,
  ) {}

  /** Connects, creates the schema if needed and applies pending migrations (serialised by a lock). */
  static async open(url: string, schema = 'inferd'): Promise<PostgresStore> {
    if (!SCHEMA.test(schema)) throw new Error(`invalid PostgreSQL schema name '${schema}'`);
    const pool = new pg.Pool({ connectionString: url, max: 10, options: `-c search_path=${schema}` });
    const store = new PostgresStore(pool, schema);
    try {
      await store.migrate();
    } catch (err) {
      await pool.end();
      throw err;
    }
    return store;
  }

  private async migrate(): Promise<void> {
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN');
      // One migrator at a time across replicas starting together.
      await c.query("SELECT pg_advisory_xact_lock(hashtext('inferd_migrations'))");
      await c.query(`CREATE SCHEMA IF NOT EXISTS ${this.schema}`);
      await c.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY)');
      const done = new Set(
        (await c.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map(
          (r) => r.version,
        ),
      );
      for (const [i, sql] of MIGRATIONS.entries()) {
        if (done.has(i + 1)) continue;
        await c.query(sql);
        await c.query('INSERT INTO schema_migrations (version) VALUES ($1)', [i + 1]);
      }
      await c.query('COMMIT');
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      c.release();
    }
  }

  async createKey(key: ApiKeyRecord): Promise<void> {
    const ph = keyToValues(key).map((_, i) => $(i + 1));
    await this.pool.query(
      `INSERT INTO api_keys (${KEY_COLUMNS}) VALUES (${ph.join(', ')})`,
      keyToValues(key),
    );
  }

  async findKeyByHash(hash: string): Promise<ApiKeyRecord | undefined> {
    const r = await this.pool.query<KeyRow>(`SELECT ${KEY_COLUMNS} FROM api_keys WHERE hash = $1`, [hash]);
    return r.rows[0] ? keyFromRow(r.rows[0]) : undefined;
  }

  async getKey(id: string): Promise<ApiKeyRecord | undefined> {
    const r = await this.pool.query<KeyRow>(`SELECT ${KEY_COLUMNS} FROM api_keys WHERE id = $1`, [id]);
    return r.rows[0] ? keyFromRow(r.rows[0]) : undefined;
  }

  async listKeys(): Promise<ApiKeyRecord[]> {
    const r = await this.pool.query<KeyRow>(
      `SELECT ${KEY_COLUMNS} FROM api_keys ORDER BY created_at DESC, id DESC`,
    );
    return r.rows.map(keyFromRow);
  }

  async listKeysByOwner(owner: string): Promise<ApiKeyRecord[]> {
    const r = await this.pool.query<KeyRow>(
      `SELECT ${KEY_COLUMNS} FROM api_keys WHERE owner = $1 ORDER BY created_at DESC, id DESC`,
      [owner],
    );
    return r.rows.map(keyFromRow);
  }

  async lastUsed(keyIds: readonly string[]): Promise<Map<string, number>> {
    const ids = checkIds(keyIds);
    if (ids.length === 0) return new Map();
    const r = await this.pool.query<{ key_id: string; t: string }>(
      'SELECT key_id, MAX(time) AS t FROM usage WHERE key_id = ANY($1) GROUP BY key_id',
      [ids],
    );
    return new Map(r.rows.map((row) => [row.key_id, Number(row.t)]));
  }

  async revokeKey(id: string, at: number): Promise<boolean> {
    const r = await this.pool.query(
      'UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2',
      [at, id],
    );
    return (r.rowCount ?? 0) > 0;
  }

  async setExpiry(id: string, at: number | null): Promise<boolean> {
    const r = await this.pool.query('UPDATE api_keys SET expires_at = $1 WHERE id = $2', [at, id]);
    return (r.rowCount ?? 0) > 0;
  }

  async recordUsage(records: UsageRecord[]): Promise<void> {
    if (records.length === 0) return;
    const values: unknown[] = [];
    const tuples = records.map((u) => {
      values.push(u.keyId, u.model, u.version, u.status, u.units, u.latencyMs, u.time);
      const b = values.length - 7;
      return `(${[1, 2, 3, 4, 5, 6, 7].map((j) => $(b + j)).join(', ')})`;
    });
    await this.pool.query(
      `INSERT INTO usage (key_id, model, version, status, units, latency_ms, time) VALUES ${tuples.join(', ')}`,
      values,
    );
  }

  async unitsUsed(keyId: string, from: number, to: number): Promise<number> {
    const r = await this.pool.query<{ n: string }>(
      'SELECT COALESCE(SUM(units), 0) AS n FROM usage WHERE key_id = $1 AND time >= $2 AND time < $3',
      [keyId, from, to],
    );
    return Number(r.rows[0]?.n ?? 0);
  }

  async usageTotals(q: UsageQuery): Promise<UsageTotal[]> {
    const w = usageWhere(q, $);
    const r = await this.pool.query<TotalRow>(
      `SELECT key_id, to_char(to_timestamp(time / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, model,
              COUNT(*) AS requests, SUM(units) AS units,
              SUM(CASE WHEN status >= 400 THEN 1 ELSE 0 END) AS errors
       FROM usage ${w.sql} GROUP BY key_id, day, model ORDER BY day, key_id, model`,
      w.params,
    );
    return r.rows.map(totalFromRow);
  }

  async usageRecords(q: UsageQuery): Promise<UsageRecord[]> {
    const w = usageWhere(q, $);
    const r = await this.pool.query<UsageRow>(
      `SELECT key_id, model, version, status, units, latency_ms, time FROM usage ${w.sql} ORDER BY time, id`,
      w.params,
    );
    return r.rows.map(usageFromRow);
  }

  /** Runs `fn` in one transaction on one connection. */
  private async tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN');
      const out = await fn(c);
      await c.query('COMMIT');
      return out;
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      c.release();
    }
  }

  async recordPredictions(records: PredictionRecord[]): Promise<void> {
    const rows = lastPerRequest(records);
    if (rows.length === 0) return;
    // One statement, one round trip: the batch as arrays, its feedback dropped, then upserted.
    const cols = rows.map(predictionToValues);
    const column = (i: number): unknown[] => cols.map((c) => c[i]);
    await this.pool.query(
      `WITH r AS (
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                              $7::text[], $8::bigint[], $9::bigint[])
           AS t(key_id, request_id, model, version, output, label, input, time, expires_at)),
       d AS (DELETE FROM feedback f USING r WHERE f.key_id = r.key_id AND f.request_id = r.request_id)
       INSERT INTO predictions (${PREDICTION_COLUMNS}) SELECT ${PREDICTION_COLUMNS} FROM r
       ON CONFLICT (key_id, request_id) DO UPDATE SET model = EXCLUDED.model, version = EXCLUDED.version,
         output = EXCLUDED.output, label = EXCLUDED.label, input = EXCLUDED.input, time = EXCLUDED.time,
         expires_at = EXCLUDED.expires_at`,
      [0, 1, 2, 3, 4, 5, 6, 7, 8].map(column),
    );
  }

  async getPrediction(keyId: string, requestId: string, now: number): Promise<PredictionRecord | undefined> {
    const r = await this.pool.query<PredictionRow>(
      `SELECT ${PREDICTION_COLUMNS} FROM predictions WHERE key_id = $1 AND request_id = $2 AND expires_at > $3`,
      [keyId, requestId, now],
    );
    return r.rows[0] ? predictionFromRow(r.rows[0]) : undefined;
  }

  async recordFeedback(f: FeedbackRecord): Promise<boolean> {
    return this.tx(async (c) => {
      const had = await c.query('DELETE FROM feedback WHERE key_id = $1 AND request_id = $2', [
        f.keyId,
        f.requestId,
      ]);
      await c.query(
        'INSERT INTO feedback (key_id, request_id, label, text, correct, time) VALUES ($1, $2, $3, $4, $5, $6)',
        [f.keyId, f.requestId, f.label, f.text, correctValue(f.correct), f.time],
      );
      return (had.rowCount ?? 0) > 0;
    });
  }

  async feedbackExamples(model: string, limit: number): Promise<FeedbackExample[]> {
    const r = await this.pool.query<ExampleRow>(examplesSql($), [model, limit]);
    return r.rows.map(exampleFromRow);
  }

  async purgePredictions(now: number): Promise<number> {
    return this.tx(async (c) => {
      await c.query(
        `DELETE FROM feedback f USING predictions p
         WHERE p.key_id = f.key_id AND p.request_id = f.request_id AND p.expires_at <= $1`,
        [now],
      );
      const r = await c.query('DELETE FROM predictions WHERE expires_at <= $1', [now]);
      return r.rowCount ?? 0;
    });
  }

  async listRollouts(): Promise<RolloutState[]> {
    const r = await this.pool.query<RolloutRow>('SELECT model, revision, state FROM rollouts ORDER BY model');
    return r.rows.map(rolloutFromRow);
  }

  async getRollout(model: string): Promise<RolloutState | undefined> {
    const r = await this.pool.query<RolloutRow>(
      'SELECT model, revision, state FROM rollouts WHERE model = $1',
      [model],
    );
    return r.rows[0] ? rolloutFromRow(r.rows[0]) : undefined;
  }

  async saveRollout(state: RolloutState, expected: number): Promise<boolean> {
    const json = rolloutToJson(state);
    const r =
      expected === 0
        ? await this.pool.query(
            'INSERT INTO rollouts (model, revision, state, updated_at) VALUES ($1, $2, $3, $4) ON CONFLICT (model) DO NOTHING',
            [state.model, state.revision, json, state.updatedAt],
          )
        : await this.pool.query(
            'UPDATE rollouts SET revision = $1, state = $2, updated_at = $3 WHERE model = $4 AND revision = $5',
            [state.revision, json, state.updatedAt, state.model, expected],
          );
    return (r.rowCount ?? 0) > 0;
  }

  /** Drops this store's schema (tests only: each run uses its own). */
  async dropSchema(): Promise<void> {
    await this.pool.query(`DROP SCHEMA IF EXISTS ${this.schema} CASCADE`);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
