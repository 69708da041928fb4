/**
 * The release gate: decides from two measured versions (src/training/spam/evaluate.ts) whether the
 * candidate may replace the one it is compared against. Every rule is one named check:
 *   - floors: each gated metric of the candidate >= `evaluation.floors[metric]`;
 *   - regression: each gated metric >= the baseline's - `evaluation.max_regression`;
 *   - significance: McNemar's exact test on the paired correctness; fails when the candidate makes
 *     more errors and the one-sided p-value is below `evaluation.alpha` (default 0.05). The paired
 *     bootstrap 95% interval of the F1 difference is reported beside it;
 *   - behaviour: every CheckList capability within its `max_failure_rate`;
 *   - budget: in-process p99 latency (one message per call) and resident memory of the loaded
 *     model within `evaluation.budget.{p99_ms, memory_mb}`.
 */
import {
  mcnemar,
  pairedBootstrap,
  type BootstrapInterval,
  type McNemarResult,
} from '../stats/paired-tests.js';
import type { CapabilityResult } from './checklist.js';
import { binaryMetrics, type BinaryMetrics } from './metrics.js';

const GATED_METRICS = ['f1', 'precision', 'roc_auc'] as const;

export interface GateSettings {
  floors: Partial<Record<(typeof GATED_METRICS)[number], number>>;
  maxRegression: number;
  alpha: number;
  budget: { p99Ms?: number; memoryMb?: number };
}

/** One version measured on the shared held-out examples. */
export interface VersionRun {
  version: string;
  metrics: BinaryMetrics;
  /** P(spam) per example, in the shared example order. */
  probability: Float32Array;
  /** The served decision per example (1 = spam). */
  decision: Uint8Array;
  checklist: CapabilityResult[];
  latency: { p50Ms: number; p99Ms: number; calls: number };
  /** Resident memory added by loading the model and running it once (MiB). */
  memoryMb: number;
}

interface GateCheck {
  kind: 'floor' | 'regression' | 'significance' | 'behaviour' | 'budget';
  name: string;
  value: number;
  limit: number;
  passed: boolean;
}

interface Significance {
  test: "McNemar's exact test (two-sided p and one-sided 'candidate worse' p)";
  mcnemar: McNemarResult;
  f1Difference: BootstrapInterval;
}

export interface GateDecision {
  checks: GateCheck[];
  significance?: Significance;
  passed: boolean;
}

const check = (
  kind: GateCheck['kind'],
  name: string,
  value: number,
  limit: number,
  passed: boolean,
): GateCheck => ({
  kind,
  name,
  value,
  limit,
  passed,
});

/** F1 of the served decisions over the given example indices. */
function f1At(decision: Uint8Array, y: readonly number[], idx: Uint32Array): number {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (const i of idx) {
    const d = decision[i] === 1;
    const t = y[i] === 1;
    if (d && t) tp++;
    else if (d) fp++;
    else if (t) fn++;
  }
  const den = 2 * tp + fp + fn;
  return den === 0 ? 0 : (2 * tp) / den;
}

/** Metrics of a version's served decisions (precision/recall/F1) and probabilities (AUC, ECE). */
export function metricsOf(
  probability: Float32Array,
  decision: Uint8Array,
  y: readonly number[],
): BinaryMetrics {
  const decided = binaryMetrics(Float64Array.from(decision), y, 0.5);
  const scored = binaryMetrics(probability, y, 0.5);
  return {
    ...decided,
    roc_auc: scored.roc_auc,
    ece: scored.ece,
    log_loss: scored.log_loss,
    brier: scored.brier,
  };
}

export function decide(
  settings: GateSettings,
  y: readonly number[],
  candidate: VersionRun,
  baseline: VersionRun | undefined,
  seed = 1,
): GateDecision {
  const checks: GateCheck[] = [];
  const m = candidate.metrics;
  for (const name of GATED_METRICS) {
    const floor = settings.floors[name];
    if (floor !== undefined)
      checks.push(check('floor', `${name} >= floor`, m[name], floor, m[name] >= floor));
  }
  let significance: Significance | undefined;
  if (baseline) {
    for (const name of GATED_METRICS) {
      const limit = baseline.metrics[name] - settings.maxRegression;
      checks.push(
        check(
          'regression',
          `${name} >= v${baseline.version} - ${settings.maxRegression}`,
          m[name],
          limit,
          m[name] >= limit,
        ),
      );
    }
    const correct = (r: VersionRun): boolean[] => Array.from(r.decision, (d, i) => d === y[i]);
    const test = mcnemar(correct(candidate), correct(baseline));
    const f1Difference = pairedBootstrap(
      y.length,
      (idx, which) => f1At(which === 'candidate' ? candidate.decision : baseline.decision, y, idx),
      { seed },
    );
    significance = {
      test: "McNemar's exact test (two-sided p and one-sided 'candidate worse' p)",
      mcnemar: test,
      f1Difference,
    };
    const worse = test.b > test.c && test.pWorse < settings.alpha;
    checks.push(
      check(
        'significance',
        `not significantly worse (McNemar b=${test.b} c=${test.c}, p < ${settings.alpha} fails)`,
        test.pWorse,
        settings.alpha,
        !worse,
      ),
    );
  }
  for (const c of candidate.checklist) {
    checks.push(
      check(
        'behaviour',
        `checklist ${c.capability} failure rate <= limit`,
        c.failureRate,
        c.maxFailureRate,
        c.passed,
      ),
    );
  }
  const { p99Ms, memoryMb } = settings.budget;
  if (p99Ms !== undefined) {
    checks.push(
      check(
        'budget',
        'p99 latency (ms) <= budget',
        candidate.latency.p99Ms,
        p99Ms,
        candidate.latency.p99Ms <= p99Ms,
      ),
    );
  }
  if (memoryMb !== undefined) {
    checks.push(
      check('budget', 'memory (MiB) <= budget', candidate.memoryMb, memoryMb, candidate.memoryMb <= memoryMb),
    );
  }
  return { checks, significance, passed: checks.every((c) => c.passed) };
}
