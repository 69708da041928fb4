/**
 * Significance tests on paired predictions: two models scored on the same examples. The release
 * gate (src/training/spam/gate.ts) uses them to tell a real regression from noise.
 *   - McNemar's exact test (McNemar 1947; exact binomial form as in Dietterich 1998): only the
 *     discordant pairs count, b = examples only the candidate gets wrong, c = only the baseline
 *     gets wrong. Under H0 (equal error rates) b ~ Binomial(b + c, 1/2).
 *   - A paired bootstrap confidence interval for the difference of any metric: resample example
 *     indices with replacement (the same indices for both models), percentile interval.
 */
import { Prng } from './prng.js';

export interface McNemarResult {
  /** Examples the candidate gets wrong and the baseline right. */
  b: number;
  /** Examples the baseline gets wrong and the candidate right. */
  c: number;
  /** Two-sided exact p-value: P(|X - n/2| >= |b - n/2|), X ~ Binomial(n = b + c, 1/2). */
  pValue: number;
  /** One-sided p-value for "the candidate makes more errors": P(X >= b). */
  pWorse: number;
}

/** ln(k!) by summing logs below 256 (exact enough) and Stirling's series above. */
function logFactorial(k: number): number {
  if (k < 256) {
    let s = 0;
    for (let i = 2; i <= k; i++) s += Math.log(i);
    return s;
  }
  const x = k + 1;
  return (x - 0.5) * Math.log(x) - x + 0.5 * Math.log(2 * Math.PI) + 1 / (12 * x) - 1 / (360 * x ** 3);
}

/** P(X = k) for X ~ Binomial(n, 1/2), computed in logs so n in the millions does not underflow early. */
function halfBinomialPmf(n: number, k: number): number {
  return Math.exp(logFactorial(n) - logFactorial(k) - logFactorial(n - k) - n * Math.LN2);
}

/** P(X >= k) for X ~ Binomial(n, 1/2). */
function upperTail(n: number, k: number): number {
  let p = 0;
  for (let i = Math.max(0, k); i <= n; i++) p += halfBinomialPmf(n, i);
  return Math.min(1, p);
}

/** McNemar's exact test from per-example correctness of the candidate and the baseline. */
export function mcnemar(
  candidateCorrect: readonly boolean[],
  baselineCorrect: readonly boolean[],
): McNemarResult {
  if (candidateCorrect.length !== baselineCorrect.length) {
    throw new RangeError(
      `paired test needs equal lengths, got ${candidateCorrect.length} and ${baselineCorrect.length}`,
    );
  }
  let b = 0;
  let c = 0;
  for (let i = 0; i < candidateCorrect.length; i++) {
    if (!candidateCorrect[i] && baselineCorrect[i]) b++;
    else if (candidateCorrect[i] && !baselineCorrect[i]) c++;
  }
  return mcnemarCounts(b, c);
}

/** McNemar's exact test from the discordant counts. */
export function mcnemarCounts(b: number, c: number): McNemarResult {
  const n = b + c;
  if (n === 0) return { b, c, pValue: 1, pWorse: 1 };
  // Symmetric distribution: two-sided = 2 × the smaller tail, capped at 1.
  const pValue = Math.min(1, 2 * upperTail(n, Math.max(b, c)));
  return { b, c, pValue, pWorse: upperTail(n, b) };
}

export interface BootstrapInterval {
  /** metric(candidate) - metric(baseline) on the full sample. */
  difference: number;
  low: number;
  high: number;
  confidence: number;
  resamples: number;
}

/**
 * Paired bootstrap interval of metric(candidate) - metric(baseline). `metric` receives the
 * resampled indices and which model to score; the same indices serve both models in a resample,
 * which is what makes it paired. Deterministic for a given seed.
 */
export function pairedBootstrap(
  n: number,
  metric: (indices: Uint32Array, model: 'candidate' | 'baseline') => number,
  opts: { resamples?: number; confidence?: number; seed?: number } = {},
): BootstrapInterval {
  const resamples = opts.resamples ?? 2000;
  const confidence = opts.confidence ?? 0.95;
  const all = Uint32Array.from({ length: n }, (_, i) => i);
  const difference = metric(all, 'candidate') - metric(all, 'baseline');
  const rng = new Prng(opts.seed ?? 1);
  const diffs = new Float64Array(resamples);
  const idx = new Uint32Array(n);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < n; i++) idx[i] = rng.int(n);
    diffs[r] = metric(idx, 'candidate') - metric(idx, 'baseline');
  }
  diffs.sort();
  const alpha = (1 - confidence) / 2;
  const at = (q: number): number =>
    diffs[Math.min(resamples - 1, Math.max(0, Math.floor(q * resamples)))] ?? 0;
  return { difference, low: at(alpha), high: at(1 - alpha), confidence, resamples };
}
