/**
 * Binary classification metrics. Spam (label 1) is the positive class throughout; probabilities are
 * P(spam); a message is called spam when its probability is >= the threshold.
 */

export interface BinaryMetrics {
  accuracy: number;
  precision: number;
  recall: number;
  f1: number;
  roc_auc: number;
  /** Expected calibration error over 10 equal-width probability bins (absolute, 0..1). */
  ece: number;
  log_loss: number;
  brier: number;
  confusion: { tp: number; fp: number; tn: number; fn: number };
  n: number;
}

export function confusion(
  prob: ArrayLike<number>,
  y: ArrayLike<number>,
  threshold: number,
): BinaryMetrics['confusion'] {
  const c = { tp: 0, fp: 0, tn: 0, fn: 0 };
  for (let i = 0; i < prob.length; i++) {
    const predicted = (prob[i] as number) >= threshold;
    const actual = y[i] === 1;
    if (predicted && actual) c.tp++;
    else if (predicted) c.fp++;
    else if (actual) c.fn++;
    else c.tn++;
  }
  return c;
}

export function f1Of(c: BinaryMetrics['confusion']): number {
  const d = 2 * c.tp + c.fp + c.fn;
  return d === 0 ? 0 : (2 * c.tp) / d;
}

/** ROC-AUC by the rank-sum (Mann-Whitney) formula; ties get their average rank. 0.5 when one class is absent. */
export function rocAuc(score: ArrayLike<number>, y: ArrayLike<number>): number {
  const idx = Array.from({ length: score.length }, (_, i) => i).sort(
    (a, b) => (score[a] as number) - (score[b] as number),
  );
  let rankSum = 0;
  let pos = 0;
  for (let i = 0; i < idx.length;) {
    let j = i;
    while (j + 1 < idx.length && score[idx[j + 1] as number] === score[idx[i] as number]) j++;
    const avgRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) {
      if (y[idx[k] as number] === 1) {
        rankSum += avgRank;
        pos++;
      }
    }
    i = j + 1;
  }
  const neg = idx.length - pos;
  if (pos === 0 || neg === 0) return 0.5;
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}

/** Expected calibration error: bin-weighted |mean predicted - observed rate| over `bins` equal-width bins. */
export function expectedCalibrationError(prob: ArrayLike<number>, y: ArrayLike<number>, bins = 10): number {
  const sumP = new Float64Array(bins);
  const sumY = new Float64Array(bins);
  const count = new Float64Array(bins);
  for (let i = 0; i < prob.length; i++) {
    const p = prob[i] as number;
    const b = Math.min(bins - 1, Math.floor(p * bins));
    sumP[b] = (sumP[b] as number) + p;
    sumY[b] = (sumY[b] as number) + (y[i] as number);
    count[b] = (count[b] as number) + 1;
  }
  let ece = 0;
  for (let b = 0; b < bins; b++) {
    const n = count[b] as number;
    if (n > 0) ece += (n / prob.length) * Math.abs(((sumP[b] as number) - (sumY[b] as number)) / n);
  }
  return ece;
}

/** All metrics for calibrated probabilities at `threshold`. */
export function binaryMetrics(
  prob: ArrayLike<number>,
  y: ArrayLike<number>,
  threshold: number,
): BinaryMetrics {
  const c = confusion(prob, y, threshold);
  const n = prob.length;
  let ll = 0;
  let brier = 0;
  for (let i = 0; i < n; i++) {
    const p = Math.min(1 - 1e-12, Math.max(1e-12, prob[i] as number));
    const t = y[i] as number;
    ll -= t * Math.log(p) + (1 - t) * Math.log(1 - p);
    brier += (p - t) ** 2;
  }
  return {
    accuracy: n === 0 ? 0 : (c.tp + c.tn) / n,
    precision: c.tp + c.fp === 0 ? 0 : c.tp / (c.tp + c.fp),
    recall: c.tp + c.fn === 0 ? 0 : c.tp / (c.tp + c.fn),
    f1: f1Of(c),
    roc_auc: rocAuc(prob, y),
    ece: expectedCalibrationError(prob, y),
    log_loss: n === 0 ? 0 : ll / n,
    brier: n === 0 ? 0 : brier / n,
    confusion: c,
    n,
  };
}
