/**
 * The automatic rollback rule, pure: given both versions' windows and the policy, roll back or not
 * and why. The candidate is judged only once it has `minSamples` requests in the window; the
 * latency rule also needs max(`minSamples`, 1000) successes on both sides (with fewer, e.g. a 100%
 * canary, only the error rule applies, against an error rate of 0 for production).
 */
import type { RollbackPolicy } from './state.js';
import type { WindowSnapshot } from './window.js';

export type Verdict = { rollback: false; why: string } | { rollback: true; reason: string };

/**
 * The p99 of n values is about their (n/100)-th largest. A fresh candidate's first executions of
 * each batch shape are slow once (memory planning), and with 100 values those alone made its p99:
 * the release demo rolled back a healthy retrain at 145 canary answers (p99 49 ms vs 30 ms). From
 * 1000 values the p99 is the 10th largest, past such one-off costs and single GC pauses.
 */
const P99_MIN_SUCCESSES = 1000;

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;

export function judge(
  policy: RollbackPolicy,
  production: WindowSnapshot,
  candidate: WindowSnapshot,
): Verdict {
  if (candidate.requests < policy.minSamples) {
    return { rollback: false, why: `candidate has ${candidate.requests} of ${policy.minSamples} requests` };
  }
  const prodJudged = production.requests >= policy.minSamples;
  const baseRate = prodJudged ? production.errorRate : 0;
  if (candidate.errorRate - baseRate > policy.errorRateMargin) {
    return {
      rollback: true,
      reason:
        `error rate ${pct(candidate.errorRate)} over ${candidate.requests} requests against production's ` +
        `${prodJudged ? pct(baseRate) : '0% (too few requests)'}, margin ${pct(policy.errorRateMargin)}`,
    };
  }
  // Both sides need P99_MIN_SUCCESSES successes (see there): a p99 of few values is their maximum.
  const need = Math.max(policy.minSamples, P99_MIN_SUCCESSES);
  if (
    production.requests - production.errors >= need &&
    candidate.requests - candidate.errors >= need &&
    production.p99Ms !== undefined &&
    candidate.p99Ms !== undefined &&
    candidate.p99Ms > production.p99Ms * (1 + policy.p99Margin) &&
    candidate.p99Ms - production.p99Ms >= policy.p99SlackMs
  ) {
    return {
      rollback: true,
      reason:
        `p99 latency ${candidate.p99Ms.toFixed(1)} ms against production's ${production.p99Ms.toFixed(1)} ms, ` +
        `margin +${Math.round(policy.p99Margin * 100)}% and ${policy.p99SlackMs} ms`,
    };
  }
  return { rollback: false, why: 'within margins' };
}
