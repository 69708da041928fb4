/**
 * Drift: how far the live distribution of a feature has moved from the training reference, as the
 * population stability index (PSI) over fixed bins:
 *   PSI = Σ_i (a_i − e_i) · ln(a_i / e_i),  e_i, a_i = share of the reference / live values in bin i
 * (Siddiqi 2006; Yurdakul 2018 for its sampling distribution). Conventional reading, which the
 * alert threshold follows: < 0.1 no real shift, 0.1–0.2 moderate, >= 0.2 significant (some
 * practitioners put the last cut at 0.25; 0.2 alerts earlier, which a live monitor wants).
 * The same feature definitions serve training (the reference, written beside the version) and the
 * server (the live counts), so both bin identically.
 */

/** A numeric feature of one text input value, binned by ascending upper edges (last bin open). */
export interface TextFeature {
  name: string;
  kind: 'length' | 'count';
  /** For `count`: a regular expression whose matches are counted (global, case-insensitive). */
  pattern?: string;
  /** Ascending bin edges: bin i holds values <= edges[i]; one more bin above the last edge. */
  edges: number[];
}

/** PSI at or above this is reported as drifted (docs/lifecycle.md#drift). */
export const PSI_ALERT = 0.2;

/** Share floor for empty bins, so an empty bin adds a large but finite term (a common choice). */
const EPSILON = 1e-4;

/** The bin of `value` for ascending `edges` (0..edges.length). */
export function binOf(value: number, edges: readonly number[]): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (value <= (edges[mid] as number)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** The feature's value for one text (length in characters, or the number of pattern matches). */
export function featureValue(f: TextFeature, text: string): number {
  if (f.kind === 'length') return text.length;
  const re = new RegExp(f.pattern ?? '(?!)', 'gi');
  let n = 0;
  while (re.exec(text) !== null) {
    n++;
    if (re.lastIndex === 0) break;
  }
  return n;
}

/** Bin counts of a feature over many texts. */
export function histogram(f: TextFeature, texts: Iterable<string>): number[] {
  const counts = new Array<number>(f.edges.length + 1).fill(0);
  for (const t of texts) counts[binOf(featureValue(f, t), f.edges)]! += 1;
  return counts;
}

/** Bin counts of numbers (e.g. predicted probabilities). */
export function histogramOf(values: Iterable<number>, edges: readonly number[]): number[] {
  const counts = new Array<number>(edges.length + 1).fill(0);
  for (const v of values) counts[binOf(v, edges)]! += 1;
  return counts;
}

/** PSI of the live counts against the reference counts (same bins). 0 when either is empty. */
export function psi(reference: readonly number[], live: readonly number[]): number {
  if (reference.length !== live.length) {
    throw new RangeError(`PSI needs the same bins, got ${reference.length} and ${live.length}`);
  }
  const e = reference.reduce((s, x) => s + x, 0);
  const a = live.reduce((s, x) => s + x, 0);
  if (e === 0 || a === 0) return 0;
  let sum = 0;
  for (let i = 0; i < reference.length; i++) {
    const pe = Math.max(EPSILON, (reference[i] as number) / e);
    const pa = Math.max(EPSILON, (live[i] as number) / a);
    sum += (pa - pe) * Math.log(pa / pe);
  }
  return sum;
}
