/**
 * A model's rollout: which version is production, which is the candidate, how traffic is split and
 * mirrored, and the policy that rolls a bad candidate back. Stored beside keys and usage (one row
 * per model, gateway/store) so it survives restarts and is shared by replicas. Times are ms since
 * the Unix epoch. The state machine (transitions.ts): none → canary → promoted | rolled_back.
 */

type RolloutPhase = 'canary' | 'promoted' | 'rolled_back';

/** When a canary is rolled back automatically (rollback.ts). */
export interface RollbackPolicy {
  /** Length of the sliding window the versions are compared over. */
  windowMs: number;
  /** Requests each version must have in the window before it is judged. */
  minSamples: number;
  /** Roll back when the candidate's error rate exceeds production's by more than this (0.05 = 5 points). */
  errorRateMargin: number;
  /** …or when its p99 latency exceeds production's × (1 + this) … */
  p99Margin: number;
  /** …and by at least this many milliseconds (sub-millisecond noise is no regression). */
  p99SlackMs: number;
}

export interface RolloutState {
  model: string;
  phase: RolloutPhase;
  /** The version that answers when the request is not sent to the candidate. */
  production: string;
  candidate: string;
  /** Share of unversioned requests the candidate answers, in percent (0-100, two decimals). */
  percent: number;
  /** Share of requests answered by production that are mirrored to the candidate, in percent. */
  shadowPercent: number;
  policy: RollbackPolicy;
  /** Why the rollout is in its phase: who started it, why it rolled back, who promoted it. */
  reason: string;
  by: string;
  startedAt: number;
  updatedAt: number;
  /** After promote (or a rollback after promote): the previous version stays loaded until then. */
  retainUntil: number | null;
  /** Bumped by every change; a write succeeds only against the revision it read (replicas race). */
  revision: number;
}

export const DEFAULT_POLICY: RollbackPolicy = {
  windowMs: 60_000,
  minSamples: 50,
  errorRateMargin: 0.05,
  /**
   * +100% and 10 ms: a canary of a retrain identical in compute showed its p99 at 1.5-1.6× the
   * production arm's on 2 busy cores (the 10% arm's requests wait behind the 90% arm's batches on
   * the same cores; npm run release:demo), so +50% rolled back healthy candidates.
   */
  p99Margin: 1,
  p99SlackMs: 10,
};

/** True while traffic is split or mirrored. */
export function isActive(s: RolloutState | undefined): s is RolloutState & { phase: 'canary' } {
  return s !== undefined && s.phase === 'canary';
}

/**
 * The version unversioned requests get outside a canary: the promoted candidate, or production
 * again after a rollback. undefined = no rollout opinion (the router's default applies).
 */
export function settledVersion(s: RolloutState | undefined): string | undefined {
  if (!s) return undefined;
  if (s.phase === 'promoted') return s.candidate;
  if (s.phase === 'rolled_back') return s.production;
  return undefined;
}

/**
 * The version the rollout holds to be `production` now: the canary's production, the promoted
 * candidate, or the version a rollback returned to. undefined = no rollout.
 */
export function productionNow(s: RolloutState | undefined): string | undefined {
  return s?.phase === 'canary' ? s.production : settledVersion(s);
}
