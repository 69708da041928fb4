/**
 * SQLite store (better-sqlite3) in WAL mode. synchronous=NORMAL: a committed write is in the WAL
 * file when the call returns, so it survives the process being killed (kill -9, OOM, crash) — the
 * metering contract, proven by test/gateway/metering-crash.test.ts. It does not fsync per commit:
 * FULL measured 3.5 ms per commit here (blocking the event loop, better-sqlite3 is synchronous)
 * against 0.016 ms; an OS crash or power loss may lose the last commits. Use PostgreSQL when that
 * matters. Calls are synchronous underneath; the async interface matches the PostgreSQL store.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
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

/** Ordered migrations; each runs once, recorded in schema_migrations. Never edit a shipped one. */
const MIGRATIONS: string[] = [
  `CREATE TABLE api_keys (
     id TEXT PRIMARY KEY, prefix TEXT NOT NULL, hash TEXT NOT NULL UNIQUE, name TEXT NOT NULL,
     owner TEXT, plan TEXT NOT NULL, scopes TEXT, created_at INTEGER NOT NULL,
     expires_at INTEGER, revoked_at INTEGER, rotated_from TEXT);
   CREATE TABLE usage (
     id INTEGER PRIMARY KEY AUTOINCREMENT, key_id TEXT NOT NULL, model TEXT NOT NULL,
     version TEXT NOT NULL, status INTEGER NOT NULL, units INTEGER NOT NULL,
     latency_ms REAL NOT NULL, time INTEGER NOT NULL);
   CREATE INDEX usage_key_time ON usage (key_id, time);`,
  // Accounts list their keys by owner (/v1/keys).
  `CREATE INDEX api_keys_owner ON api_keys (owner);`,
  // The prediction log and its feedback (docs/lifecycle.md#feedback-and-drift).
  feedbackTables('INTEGER'),
  // Rollout states (src/service/rollout/).
  ROLLOUT_SQL.sqlite,
];

export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly insertUsage: Database.Statement;
  private readonly insertPrediction: Database.Statement;
  private readonly dropFeedback: Database.Statement;

  constructor(readonly path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.migrate();
    this.insertUsage = this.db.prepare(
      'INSERT INTO usage (key_id, model, version, status, units, latency_ms, time) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    this.insertPrediction = this.db.prepare(
      `INSERT OR REPLACE INTO predictions (${PREDICTION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.dropFeedback = this.db.prepare('DELETE FROM feedback WHERE key_id = ? AND request_id = ?');
  }

  /**
   * Check and apply in one IMMEDIATE transaction: it takes the write lock first, so processes
   * opening the same file together (replicas, parallel tests) migrate one after the other.
   */
  private migrate(): void {
    this.db
      .transaction(() => {
        this.db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY)');
        const rows = this.db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[];
        const done = new Set(rows.map((r) => r.version));
        MIGRATIONS.forEach((sql, i) => {
          if (done.has(i + 1)) return;
          this.db.exec(sql);
          this.db.prepare('INSERT INTO schema_migrations (version) VALUES (?)').run(i + 1);
        });
      })
      .immediate();
  }

  async createKey(key: ApiKeyRecord): Promise<void> {
    this.db
      .prepare(`INSERT INTO api_keys (${KEY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(...keyToValues(key));
  }

  async findKeyByHash(hash: string): Promise<ApiKeyRecord | undefined> {
    const row = this.db.prepare(`SELECT ${KEY_COLUMNS} FROM api_keys WHERE hash = ?`).get(hash);
    return row ? keyFromRow(row as KeyRow) : undefined;
  }

  async getKey(id: string): Promise<ApiKeyRecord | undefined> {
    const row = this.db.prepare(`SELECT ${KEY_COLUMNS} FROM api_keys WHERE id = ?`).get(id);
    return row ? keyFromRow(row as KeyRow) : undefined;
  }

  async listKeys(): Promise<ApiKeyRecord[]> {
    const rows = this.db
      .prepare(`SELECT ${KEY_COLUMNS} FROM api_keys ORDER BY created_at DESC, id DESC`)
      .all() as KeyRow[];
    return rows.map(keyFromRow);
  }

  async listKeysByOwner(owner: string): Promise<ApiKeyRecord[]> {
    const rows = this.db
      .prepare(`SELECT ${KEY_COLUMNS} FROM api_keys WHERE owner = ? ORDER BY created_at DESC, id DESC`)
      .all(owner) as KeyRow[];
    return rows.map(keyFromRow);
  }

  async lastUsed(keyIds: readonly string[]): Promise<Map<string, number>> {
    const ids = checkIds(keyIds);
    if (ids.length === 0) return new Map();
    const rows = this.db
      .prepare(
        `SELECT key_id, MAX(time) AS t FROM usage WHERE key_id IN (${ids.map(() => '?').join(', ')}) GROUP BY key_id`,
      )
      .all(...ids) as { key_id: string; t: number }[];
    return new Map(rows.map((r) => [r.key_id, r.t]));
  }

  async revokeKey(id: string, at: number): Promise<boolean> {
    const r = this.db
      .prepare('UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?')
      .run(at, id);
    return r.changes > 0;
  }

  async setExpiry(id: string, at: number | null): Promise<boolean> {
    return this.db.prepare('UPDATE api_keys SET expires_at = ? WHERE id = ?').run(at, id).changes > 0;
  }

  async recordUsage(records: UsageRecord[]): Promise<void> {
    this.db.transaction(() => {
      for (const u of records) {
        this.insertUsage.run(u.keyId, u.model, u.version, u.status, u.units, u.latencyMs, u.time);
      }
    })();
  }

  async unitsUsed(keyId: string, from: number, to: number): Promise<number> {
    const row = this.db
      .prepare('SELECT COALESCE(SUM(units), 0) AS n FROM usage WHERE key_id = ? AND time >= ? AND time < ?')
      .get(keyId, from, to) as { n: number };
    return row.n;
  }

  async usageTotals(q: UsageQuery): Promise<UsageTotal[]> {
    const w = usageWhere(q, () => '?');
    const rows = this.db
      .prepare(
        `SELECT key_id, strftime('%Y-%m-%d', time / 1000, 'unixepoch') AS day, model,
                COUNT(*) AS requests, SUM(units) AS units,
                SUM(CASE WHEN status >= 400 THEN 1 ELSE 0 END) AS errors
         FROM usage ${w.sql} GROUP BY key_id, day, model ORDER BY day, key_id, model`,
      )
      .all(...w.params) as TotalRow[];
    return rows.map(totalFromRow);
  }

  async usageRecords(q: UsageQuery): Promise<UsageRecord[]> {
    const w = usageWhere(q, () => '?');
    const rows = this.db
      .prepare(
        `SELECT key_id, model, version, status, units, latency_ms, time FROM usage ${w.sql} ORDER BY time, id`,
      )
      .all(...w.params) as UsageRow[];
    return rows.map(usageFromRow);
  }

  async recordPredictions(records: PredictionRecord[]): Promise<void> {
    this.db.transaction(() => {
      for (const p of records) {
        this.dropFeedback.run(p.keyId, p.requestId);
        this.insertPrediction.run(...predictionToValues(p));
      }
    })();
  }

  async getPrediction(keyId: string, requestId: string, now: number): Promise<PredictionRecord | undefined> {
    const row = this.db
      .prepare(
        `SELECT ${PREDICTION_COLUMNS} FROM predictions WHERE key_id = ? AND request_id = ? AND expires_at > ?`,
      )
      .get(keyId, requestId, now) as PredictionRow | undefined;
    return row ? predictionFromRow(row) : undefined;
  }

  async recordFeedback(f: FeedbackRecord): Promise<boolean> {
    return this.db.transaction(() => {
      const had = this.db
        .prepare('DELETE FROM feedback WHERE key_id = ? AND request_id = ?')
        .run(f.keyId, f.requestId).changes;
      this.db
        .prepare(
          'INSERT INTO feedback (key_id, request_id, label, text, correct, time) VALUES (?, ?, ?, ?, ?, ?)',
        )
        .run(f.keyId, f.requestId, f.label, f.text, correctValue(f.correct), f.time);
      return had > 0;
    })();
  }

  async feedbackExamples(model: string, limit: number): Promise<FeedbackExample[]> {
    const rows = this.db.prepare(examplesSql(() => '?')).all(model, limit) as ExampleRow[];
    return rows.map(exampleFromRow);
  }

  async purgePredictions(now: number): Promise<number> {
    return this.db.transaction(() => {
      this.db
        .prepare(
          `DELETE FROM feedback WHERE EXISTS (SELECT 1 FROM predictions p WHERE p.key_id = feedback.key_id
             AND p.request_id = feedback.request_id AND p.expires_at <= ?)`,
        )
        .run(now);
      return this.db.prepare('DELETE FROM predictions WHERE expires_at <= ?').run(now).changes;
    })();
  }

  async listRollouts(): Promise<RolloutState[]> {
    const rows = this.db.prepare('SELECT model, revision, state FROM rollouts ORDER BY model').all();
    return (rows as RolloutRow[]).map(rolloutFromRow);
  }

  async getRollout(model: string): Promise<RolloutState | undefined> {
    const row = this.db.prepare('SELECT model, revision, state FROM rollouts WHERE model = ?').get(model);
    return row ? rolloutFromRow(row as RolloutRow) : undefined;
  }

  async saveRollout(state: RolloutState, expected: number): Promise<boolean> {
    const json = rolloutToJson(state);
    const r =
      expected === 0
        ? this.db
            .prepare(
              'INSERT INTO rollouts (model, revision, state, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (model) DO NOTHING',
            )
            .run(state.model, state.revision, json, state.updatedAt)
        : this.db
            .prepare(
              'UPDATE rollouts SET revision = ?, state = ?, updated_at = ? WHERE model = ? AND revision = ?',
            )
            .run(state.revision, json, state.updatedAt, state.model, expected);
    return r.changes > 0;
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
