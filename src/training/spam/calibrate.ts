/**
 * Calibration and threshold choice, both fitted on the VALIDATION split only.
 * - Platt scaling: p = sigmoid(a * z + b) over the classifier's raw logit z, fitted by Newton's
 *   method on the log-loss (a tiny ridge keeps it stable when validation is separable).
 * - Threshold: the probability cut that maximises validation F1 (ties: the one nearest 0.5).
 */
import { sigmoid } from './classifier.js';
import { confusion, f1Of } from './metrics.js';

export interface Platt {
  a: number;
  b: number;
}

export function fitPlatt(z: ArrayLike<number>, y: ArrayLike<number>, ridge = 1e-3): Platt {
  let a = 1;
  let b = 0;
  for (let iter = 0; iter < 100; iter++) {
    // Gradient and Hessian of mean log-loss (+ ridge/2 * (a-1)^2 pulls towards the identity map).
    let ga = ridge * (a - 1);
    let gb = 0;
    let haa = ridge;
    let hab = 0;
    let hbb = 1e-9;
    for (let i = 0; i < z.length; i++) {
      const zi = z[i] as number;
      const p = sigmoid(a * zi + b);
      const r = (p - (y[i] as number)) / z.length;
      const w = (p * (1 - p)) / z.length;
      ga += r * zi;
      gb += r;
      haa += w * zi * zi;
      hab += w * zi;
      hbb += w;
    }
    const det = haa * hbb - hab * hab;
    if (!(det > 0)) break;
    const da = (hbb * ga - hab * gb) / det;
    const db = (haa * gb - hab * ga) / det;
    a -= da;
    b -= db;
    if (Math.abs(da) + Math.abs(db) < 1e-10) break;
  }
  return { a, b };
}

export function applyPlatt(p: Platt, z: ArrayLike<number>): Float64Array {
  return Float64Array.from({ length: z.length }, (_, i) => sigmoid(p.a * (z[i] as number) + p.b));
}

/**
 * Threshold maximising F1 over candidate cuts halfway between consecutive distinct probabilities,
 * so it is not glued to one validation message's score. Rounded to 1e-4 for a readable config.
 */
export function chooseThreshold(prob: ArrayLike<number>, y: ArrayLike<number>): number {
  const sorted = [...new Set(Array.from(prob))].sort((x, w) => x - w);
  let best = { f1: -1, t: 0.5 };
  for (let i = 0; i + 1 < sorted.length; i++) {
    const t = Math.round((((sorted[i] as number) + (sorted[i + 1] as number)) / 2) * 1e4) / 1e4;
    if (t <= 0 || t >= 1) continue;
    const f1 = f1Of(confusion(prob, y, t));
    if (
      f1 > best.f1 + 1e-12 ||
      (Math.abs(f1 - best.f1) <= 1e-12 && Math.abs(t - 0.5) < Math.abs(best.t - 0.5))
    ) {
      best = { f1, t };
    }
  }
  return best.t;
}
