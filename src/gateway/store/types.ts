/**
 * The gateway's data store: API keys, usage records, and the prediction log with its feedback. One interface, two implementations
 * (SQLite for one machine, PostgreSQL when replicas share state), one conformance suite
 * (test/store/conformance.ts). Times are milliseconds since the Unix epoch, UTC.
 * Rollout states (src/service/rollout/) are kept here too, so replicas share them.
 */
import type { RolloutStore } from '../../service/rollout/rollout-store.js';

export interface ApiKeyRecord {
  /** Stable public id (`key_<hex>`), safe to show and log. */
  id: string;
  /** First 8 characters of the secret part, shown in listings so people can tell keys apart. */
  prefix: string;
  /** Hex SHA-256 of the full key; the key itself is never stored. */
  hash: string;
  name: string;
  /**
   * The account the key belongs to (docs/portal.md, owner model): keys with the same owner manage
   * one another through /v1/keys. null = a key of its own, that manages only itself.
   */
  owner: string | null;
  plan: string;
  /** Model names the key may call; null = every model. */
  scopes: string[] | null;
  createdAt: number;
  expiresAt: number | null;
  revokedAt: number | null;
  /** Id of the key this one replaced by rotation. */
  rotatedFrom: string | null;
}

export interface UsageRecord {
  keyId: string;
  model: string;
  version: string;
  /** HTTP status returned to the client. */
  status: number;
  /** Billable units (the model's weight; 0 for calls that failed before inference). */
  units: number;
  latencyMs: number;
  time: number;
}

/** One row of a usage report: totals per UTC day and model. */
export interface UsageTotal {
  keyId: string;
  /** YYYY-MM-DD (UTC). */
  day: string;
  model: string;
  requests: number;
  units: number;
  errors: number;
}

export interface UsageQuery {
  keyId?: string;
  /** Inclusive lower bound (ms). */
  from?: number;
  /** Exclusive upper bound (ms). */
  to?: number;
}

/**
 * One logged /v1 prediction, for feedback (docs/lifecycle.md#feedback-and-drift). Keyed by
 * (keyId, requestId): request ids may come from the client, so they are unique only per key, and
 * a repeat replaces the earlier record (and drops its feedback).
 */
export interface PredictionRecord {
  keyId: string;
  /** The request id the answer carried (x-request-id). */
  requestId: string;
  model: string;
  /** The version that answered (aliases resolved). */
  version: string;
  /** The answer's JSON (bounded by the caller). */
  output: string;
  /** The predicted label, when the model answers one; feedback is compared with it. */
  label: string | null;
  /** The request's text fields as JSON; null unless the key's plan keeps inputs. */
  input: string | null;
  time: number;
  /** Purged after this time (the plan's retention). */
  expiresAt: number;
}

/** A customer's correction of one prediction: the true label, or the corrected text (OCR). */
export interface FeedbackRecord {
  keyId: string;
  requestId: string;
  label: string | null;
  text: string | null;
  /** The prediction's label equals `label`; null when there is nothing to compare. */
  correct: boolean | null;
  time: number;
}

/** A prediction that has feedback and a kept input: one candidate training example. */
export interface FeedbackExample {
  keyId: string;
  requestId: string;
  model: string;
  version: string;
  input: string;
  label: string | null;
  text: string | null;
  time: number;
}

export interface Store extends RolloutStore {
  readonly kind: 'sqlite' | 'postgres';
  /** Fails with a duplicate error when id or hash already exists. */
  createKey(key: ApiKeyRecord): Promise<void>;
  findKeyByHash(hash: string): Promise<ApiKeyRecord | undefined>;
  getKey(id: string): Promise<ApiKeyRecord | undefined>;
  /** Newest first. */
  listKeys(): Promise<ApiKeyRecord[]>;
  /** The keys of one account (same owner), newest first. */
  listKeysByOwner(owner: string): Promise<ApiKeyRecord[]>;
  /** The time of each key's latest usage record, for the keys that have one (at most 1,000 ids). */
  lastUsed(keyIds: readonly string[]): Promise<Map<string, number>>;
  /** Sets revoked_at once; returns false when the key does not exist. Revoking twice keeps the first time. */
  revokeKey(id: string, at: number): Promise<boolean>;
  /** Sets (or clears, with null) the expiry; used by rotation's grace period. */
  setExpiry(id: string, at: number | null): Promise<boolean>;
  /** Durable when the promise resolves (the metering contract relies on it). */
  recordUsage(records: UsageRecord[]): Promise<void>;
  /** Units used by a key in [from, to), for seeding monthly quotas. */
  unitsUsed(keyId: string, from: number, to: number): Promise<number>;
  usageTotals(q: UsageQuery): Promise<UsageTotal[]>;
  /** Raw records in time order, for export. */
  usageRecords(q: UsageQuery): Promise<UsageRecord[]>;
  /**
   * Logs predictions in one transaction (group commit); each replaces, with its feedback, an earlier
   * one of the same key and request id (within the batch the last one wins). Durable when resolved.
   */
  recordPredictions(records: PredictionRecord[]): Promise<void>;
  /** The key's prediction, unless it expired before `now`. */
  getPrediction(keyId: string, requestId: string, now: number): Promise<PredictionRecord | undefined>;
  /** Stores the feedback (a second one for the same prediction replaces the first); true when it replaced one. */
  recordFeedback(f: FeedbackRecord): Promise<boolean>;
  /**
   * Feedback with a kept input for one model, oldest first, at most `limit` rows (training reads
   * them; predictions without a kept input cannot be trained on).
   */
  feedbackExamples(model: string, limit: number): Promise<FeedbackExample[]>;
  /** Deletes predictions (and their feedback) that expired at or before `now`; returns how many. */
  purgePredictions(now: number): Promise<number>;
  close(): Promise<void>;
}
