/**
 * The confirmation step of `inferd tune`: a sweep measures each setting once, minutes apart, and a
 * machine whose speed drifts (a shared VM moved by 2× between runs, bench/results/tune-spam.md)
 * can make any setting look best. Before a candidate replaces the current config, both run again
 * side by side: one server each, measured in alternating rounds (order swapped every round), and
 * the candidate is kept only if the median of its per-round throughput ratios is at least 1 and
 * its median p99 still fits (the budget, or no worse than the current's by more than the tie).
 */
import type { Measured } from './pareto.js';

export interface ConfirmRound<T> {
  current: Measured<T>;
  candidate: Measured<T>;
}

export interface Verdict {
  /** True: recommend the candidate; false: keep the current config. */
  keep: boolean;
  /** Median over rounds of candidate ÷ current throughput. */
  ratio: number;
  currentP99: number;
  candidateP99: number;
  reason: string;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/**
 * Judges the rounds. A round where either side failed requests or answered nothing counts against
 * the candidate (ratio 0 when it failed, and the candidate is dropped when it failed any).
 */
export function judge<T>(rounds: readonly ConfirmRound<T>[], budgetP99Ms?: number, tie = 0.02): Verdict {
  if (rounds.length === 0) throw new Error('confirmation needs at least one round');
  const ratios = rounds.map(({ current, candidate }) =>
    candidate.failed > 0 || candidate.throughput <= 0
      ? 0
      : current.throughput <= 0
        ? Infinity
        : candidate.throughput / current.throughput,
  );
  const ratio = median(ratios);
  const currentP99 = median(rounds.map((r) => r.current.p99));
  const candidateP99 = median(rounds.map((r) => r.candidate.p99));
  const failed = rounds.some((r) => r.candidate.failed > 0);
  const p99Ok =
    budgetP99Ms !== undefined ? candidateP99 <= budgetP99Ms : candidateP99 <= currentP99 * (1 + tie);
  const keep = !failed && ratio >= 1 && p99Ok;
  const reason = failed
    ? 'the candidate failed requests'
    : ratio < 1
      ? `the candidate served ${((1 - ratio) * 100).toFixed(1)}% less than the current config side by side`
      : !p99Ok
        ? budgetP99Ms !== undefined
          ? `the candidate's p99 ${candidateP99.toFixed(2)} ms is over the ${budgetP99Ms} ms budget`
          : `the candidate's p99 ${candidateP99.toFixed(2)} ms is worse than the current ${currentP99.toFixed(2)} ms`
        : `the candidate served ${((ratio - 1) * 100).toFixed(1)}% more side by side`;
  return { keep, ratio, currentP99, candidateP99, reason };
}
