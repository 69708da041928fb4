/** Row ↔ record mapping of the prediction log and feedback, shared by the SQL stores. */
import type { FeedbackExample, PredictionRecord } from './types.js';

/** The prediction log and feedback tables (migration 3 of both stores; `BIGINT` is INTEGER in SQLite). */
export function feedbackTables(bigint: string): string {
  return `CREATE TABLE predictions (
     key_id TEXT NOT NULL, request_id TEXT NOT NULL, model TEXT NOT NULL, version TEXT NOT NULL,
     output TEXT NOT NULL, label TEXT, input TEXT, time ${bigint} NOT NULL, expires_at ${bigint} NOT NULL,
     PRIMARY KEY (key_id, request_id));
   CREATE INDEX predictions_expires ON predictions (expires_at);
   CREATE TABLE feedback (
     key_id TEXT NOT NULL, request_id TEXT NOT NULL, label TEXT, text TEXT, correct INTEGER,
     time ${bigint} NOT NULL, PRIMARY KEY (key_id, request_id));`;
}

export const PREDICTION_COLUMNS =
  'key_id, request_id, model, version, output, label, input, time, expires_at';

export interface PredictionRow {
  key_id: string;
  request_id: string;
  model: string;
  version: string;
  output: string;
  label: string | null;
  input: string | null;
  time: number | string;
  expires_at: number | string;
}

/** Column values in PREDICTION_COLUMNS order. */
export function predictionToValues(p: PredictionRecord): unknown[] {
  return [p.keyId, p.requestId, p.model, p.version, p.output, p.label, p.input, p.time, p.expiresAt];
}

export function predictionFromRow(r: PredictionRow): PredictionRecord {
  return {
    keyId: r.key_id,
    requestId: r.request_id,
    model: r.model,
    version: r.version,
    output: r.output,
    label: r.label,
    input: r.input,
    time: Number(r.time),
    expiresAt: Number(r.expires_at),
  };
}

/** Feedback joined with its prediction (`p` and `f` aliases); `?`/`$n` placeholders from `ph`. */
export function examplesSql(ph: (i: number) => string): string {
  return `SELECT p.key_id, p.request_id, p.model, p.version, p.input, f.label, f.text, f.time
     FROM feedback f JOIN predictions p ON p.key_id = f.key_id AND p.request_id = f.request_id
     WHERE p.model = ${ph(1)} AND p.input IS NOT NULL
     ORDER BY f.time, p.request_id, p.key_id LIMIT ${ph(2)}`;
}

export interface ExampleRow {
  key_id: string;
  request_id: string;
  model: string;
  version: string;
  input: string;
  label: string | null;
  text: string | null;
  time: number | string;
}

export function exampleFromRow(r: ExampleRow): FeedbackExample {
  return {
    keyId: r.key_id,
    requestId: r.request_id,
    model: r.model,
    version: r.version,
    input: r.input,
    label: r.label,
    text: r.text,
    time: Number(r.time),
  };
}

/** The last record per (key, request id), in first-seen order: one write per row in a batch. */
export function lastPerRequest(records: readonly PredictionRecord[]): PredictionRecord[] {
  const byId = new Map<string, PredictionRecord>();
  for (const r of records) byId.set(`${r.keyId}\u0000${r.requestId}`, r);
  return [...byId.values()];
}

/** 1/0/null as stored in the `correct` column. */
export const correctValue = (c: boolean | null): number | null => (c === null ? null : c ? 1 : 0);
