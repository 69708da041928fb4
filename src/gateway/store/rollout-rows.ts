/**
 * Rollout rows (src/service/rollout/): one per model, the state as JSON text beside its revision,
 * so the state's fields can grow without a migration. Shared by the SQLite and PostgreSQL stores.
 */
import type { RolloutState } from '../../service/rollout/state.js';

export interface RolloutRow {
  model: string;
  revision: number | string;
  state: string;
}

export const ROLLOUT_SQL = {
  sqlite: `CREATE TABLE rollouts (
     model TEXT PRIMARY KEY, revision INTEGER NOT NULL, state TEXT NOT NULL, updated_at INTEGER NOT NULL);`,
  postgres: `CREATE TABLE rollouts (
     model TEXT PRIMARY KEY, revision BIGINT NOT NULL, state TEXT NOT NULL, updated_at BIGINT NOT NULL);`,
};

export function rolloutFromRow(row: RolloutRow): RolloutState {
  const s = JSON.parse(row.state) as RolloutState;
  return { ...s, model: row.model, revision: Number(row.revision) };
}

export function rolloutToJson(s: RolloutState): string {
  return JSON.stringify(s);
}
