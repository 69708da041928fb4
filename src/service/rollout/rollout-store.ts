/**
 * Where rollout states live: beside keys and usage (gateway/store, SQLite or PostgreSQL), so they
 * survive restarts and every replica reads the same. One row per model. Writes are conditional on
 * the revision read, so two replicas rolling back at once cannot overwrite each other's change.
 */
import type { RolloutState } from './state.js';

export interface RolloutStore {
  listRollouts(): Promise<RolloutState[]>;
  getRollout(model: string): Promise<RolloutState | undefined>;
  /**
   * Writes `state` when the stored row's revision is `expected` (0 = no row yet); false when
   * another writer got there first (read again and decide again).
   */
  saveRollout(state: RolloutState, expected: number): Promise<boolean>;
}
