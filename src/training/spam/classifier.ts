/**
 * The classifier: a one-hidden-layer MLP (ReLU) over sparse feature rows, or logistic regression
 * when `hidden` is 0. Parameters are float64 during training and exported as float32.
 * Layout: w1 is [inputs x hidden] row-major (the ONNX MatMul layout), w2 is [hidden].
 */
import type { SparseRow } from './featurize.js';
import { Prng } from '../stats/prng.js';

export interface ClassifierParams {
  inputs: number;
  hidden: number;
  w1: Float64Array;
  b1: Float64Array;
  /** Output weights: [hidden] for the MLP, [inputs] for logistic regression. */
  w2: Float64Array;
  b2: number;
}

/** He-initialised MLP (or zero-initialised logistic regression) from a seeded PRNG. */
export function initClassifier(inputs: number, hidden: number, rng: Prng): ClassifierParams {
  if (hidden === 0) {
    return {
      inputs,
      hidden,
      w1: new Float64Array(0),
      b1: new Float64Array(0),
      w2: new Float64Array(inputs),
      b2: 0,
    };
  }
  // Sparse L2-normalised rows have ~100-300 non-zeros of size ~0.1: scale for that fan-in.
  const s1 = Math.sqrt(2 / 100);
  const w1 = Float64Array.from({ length: inputs * hidden }, () => rng.normal() * s1);
  const w2 = Float64Array.from({ length: hidden }, () => rng.normal() * Math.sqrt(1 / hidden));
  return { inputs, hidden, w1, b1: new Float64Array(hidden), w2, b2: 0 };
}

/** Hidden activations (after ReLU) for one row; empty for logistic regression. */
export function hiddenLayer(
  p: ClassifierParams,
  row: SparseRow,
  out: Float64Array = new Float64Array(p.hidden),
): Float64Array {
  const H = p.hidden;
  out.set(p.b1);
  for (let n = 0; n < row.idx.length; n++) {
    const base = (row.idx[n] as number) * H;
    const x = row.val[n] as number;
    for (let j = 0; j < H; j++) out[j] = (out[j] as number) + x * (p.w1[base + j] as number);
  }
  for (let j = 0; j < H; j++) if ((out[j] as number) < 0) out[j] = 0;
  return out;
}

/** Raw (uncalibrated) logit for one row. */
function logit(p: ClassifierParams, row: SparseRow, scratch?: Float64Array): number {
  let z = p.b2;
  if (p.hidden === 0) {
    for (let n = 0; n < row.idx.length; n++)
      z += (row.val[n] as number) * (p.w2[row.idx[n] as number] as number);
    return z;
  }
  const h = hiddenLayer(p, row, scratch);
  for (let j = 0; j < p.hidden; j++) z += (h[j] as number) * (p.w2[j] as number);
  return z;
}

export function logits(p: ClassifierParams, rows: readonly SparseRow[]): Float64Array {
  const scratch = new Float64Array(p.hidden);
  return Float64Array.from(rows, (r) => logit(p, r, scratch));
}

export function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

/** Mean binary cross-entropy of logits against 0/1 labels (numerically stable form). */
export function logLoss(z: ArrayLike<number>, y: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < z.length; i++) {
    const v = z[i] as number;
    sum += Math.max(v, 0) - v * (y[i] as number) + Math.log1p(Math.exp(-Math.abs(v)));
  }
  return sum / Math.max(1, z.length);
}

/** Copies parameters (early stopping keeps the best epoch's copy). */
export function cloneParams(p: ClassifierParams): ClassifierParams {
  return { ...p, w1: p.w1.slice(), b1: p.b1.slice(), w2: p.w2.slice() };
}
