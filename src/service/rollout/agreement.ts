/**
 * How far a shadow answer is from the primary one, pure. Numeric outputs are read as classifier
 * scores (rows × classes, classes = the last dimension): label agreement = rows whose top class is
 * the same; score difference = mean |primary score − shadow score| of the primary's top class.
 * BYTES outputs (OCR text) are compared by character error rate: edit distance / primary length
 * (bounded: the first 64 elements, 512 characters each).
 */
import type { Tensor } from '../../core/tensor.js';
import { BytesData } from '../../core/bytes-data.js';

export interface Agreement {
  /** Classifier rows compared, and how many had the same top label. */
  rows: number;
  agreed: number;
  /** Mean absolute score difference of the primary's top class (undefined: no numeric output). */
  scoreDiff: number | undefined;
  /** Mean character error rate over BYTES elements (undefined: no BYTES output). */
  cer: number | undefined;
}

/**
 * Bounded work on the event loop per comparison (edit distance is quadratic): each text is compared
 * on its first 512 characters, and at most 64 elements per output (~17 M steps at worst).
 */
const MAX_CER_CHARS = 512;
const MAX_CER_ELEMENTS = 64;

/** Levenshtein distance over code points, two rows of memory. */
export function editDistance(a: string, b: string): number {
  const x = [...a].slice(0, MAX_CER_CHARS);
  const y = [...b].slice(0, MAX_CER_CHARS);
  let prev = Array.from({ length: y.length + 1 }, (_, j) => j);
  let cur = new Array<number>(y.length + 1).fill(0);
  for (let i = 1; i <= x.length; i++) {
    cur[0] = i;
    for (let j = 1; j <= y.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (x[i - 1] === y[j - 1] ? 0 : 1));
    }
    [prev, cur] = [cur, prev];
  }
  return prev[y.length]!;
}

/** Character error rate of `hyp` against `ref` (0 = same; 1 when ref is empty and hyp is not). */
export function cer(ref: string, hyp: string): number {
  const n = Math.min([...ref].length, MAX_CER_CHARS);
  if (n === 0) return hyp.length === 0 ? 0 : 1;
  return editDistance(ref, hyp) / n;
}

function numeric(t: Tensor): ArrayLike<number> | undefined {
  const d = t.data;
  if (d instanceof BytesData || d instanceof BigInt64Array || d instanceof BigUint64Array) return undefined;
  // FP16/BF16 keep raw bit patterns: ordering of patterns is not ordering of values.
  if (t.datatype === 'FP16' || t.datatype === 'BF16') return undefined;
  return d;
}

export function compareOutputs(primary: readonly Tensor[], shadow: readonly Tensor[]): Agreement {
  let rows = 0;
  let agreed = 0;
  let diffSum = 0;
  let cerSum = 0;
  let texts = 0;
  for (const p of primary) {
    const s = shadow.find((t) => t.name === p.name);
    if (!s) continue;
    if (p.data instanceof BytesData && s.data instanceof BytesData) {
      const n = Math.min(p.data.length, s.data.length, MAX_CER_ELEMENTS);
      for (let i = 0; i < n; i++) cerSum += cer(p.data.text(i), s.data.text(i));
      texts += n;
      continue;
    }
    const a = numeric(p);
    const b = numeric(s);
    if (!a || !b || a.length !== b.length || a.length === 0) continue;
    const classes = Math.max(1, p.shape[p.shape.length - 1] ?? 1);
    for (let r = 0; r + classes <= a.length; r += classes) {
      let ia = r;
      let ib = r;
      for (let k = r + 1; k < r + classes; k++) {
        if (a[k]! > a[ia]!) ia = k;
        if (b[k]! > b[ib]!) ib = k;
      }
      rows += 1;
      if (ia - r === ib - r) agreed += 1;
      diffSum += Math.abs(a[ia]! - b[ia]!);
    }
  }
  return {
    rows,
    agreed,
    scoreDiff: rows > 0 ? diffSum / rows : undefined,
    cer: texts > 0 ? cerSum / texts : undefined,
  };
}
