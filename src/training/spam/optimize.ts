/**
 * Mini-batch Adam training of the classifier with L2 weight decay and early stopping on the
 * validation log-loss. Deterministic: mini-batch order comes from the seeded PRNG and every
 * reduction runs in a fixed order.
 */
import {
  cloneParams,
  hiddenLayer,
  initClassifier,
  logits,
  logLoss,
  sigmoid,
  type ClassifierParams,
} from './classifier.js';
import type { SparseRow } from './featurize.js';
import { Prng } from '../stats/prng.js';

export interface TrainOptions {
  hidden: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** L2 penalty on weights (not biases), per example. */
  l2: number;
  /** Stop after this many epochs without a better validation log-loss. */
  patience: number;
}

export const DEFAULT_TRAIN: TrainOptions = {
  hidden: 32,
  epochs: 30,
  batchSize: 32,
  learningRate: 0.002,
  l2: 1e-5,
  patience: 4,
};

export interface TrainResult {
  params: ClassifierParams;
  bestEpoch: number;
  epochsRun: number;
  history: { epoch: number; trainLoss: number; validationLoss: number }[];
}

class Adam {
  private readonly m: Float64Array;
  private readonly v: Float64Array;
  private t = 0;
  constructor(
    size: number,
    private readonly lr: number,
  ) {
    this.m = new Float64Array(size);
    this.v = new Float64Array(size);
  }
  /** Applies one step for `grad` onto `param` (same length); call `tick` once per mini-batch first. */
  step(param: Float64Array | number[], grad: Float64Array): void {
    const b1 = 0.9;
    const b2 = 0.999;
    const c1 = 1 - b1 ** this.t;
    const c2 = 1 - b2 ** this.t;
    for (let i = 0; i < grad.length; i++) {
      const g = grad[i] as number;
      const m = (this.m[i] = b1 * (this.m[i] as number) + (1 - b1) * g);
      const v = (this.v[i] = b2 * (this.v[i] as number) + (1 - b2) * g * g);
      param[i] = (param[i] as number) - (this.lr * (m / c1)) / (Math.sqrt(v / c2) + 1e-8);
    }
  }
  tick(): void {
    this.t++;
  }
}

/** Trains from a seeded start; returns the parameters of the epoch with the best validation loss. */
export function trainClassifier(
  inputs: number,
  train: { rows: readonly SparseRow[]; y: readonly number[] },
  validation: { rows: readonly SparseRow[]; y: readonly number[] },
  opts: TrainOptions,
  seed: number,
  onEpoch?: (epoch: number, trainLoss: number, validationLoss: number) => void,
): TrainResult {
  const rng = new Prng(seed + 1);
  const p = initClassifier(inputs, opts.hidden, rng);
  const H = opts.hidden;
  const g1 = new Float64Array(p.w1.length);
  const gb1 = new Float64Array(p.b1.length);
  const g2 = new Float64Array(p.w2.length);
  const gb2 = new Float64Array(1);
  const b2 = [p.b2];
  const opt = { w1: new Adam(g1.length, opts.learningRate), b1: new Adam(H, opts.learningRate) };
  const opt2 = { w2: new Adam(g2.length, opts.learningRate), b2: new Adam(1, opts.learningRate) };
  const h = new Float64Array(H);
  const order = Array.from(train.rows, (_, i) => i);
  let best = { loss: Infinity, params: cloneParams(p), epoch: 0 };
  const history: TrainResult['history'] = [];
  let epoch = 0;
  for (epoch = 1; epoch <= opts.epochs; epoch++) {
    rng.shuffle(order);
    let lossSum = 0;
    for (let start = 0; start < order.length; start += opts.batchSize) {
      const batch = order.slice(start, start + opts.batchSize);
      g1.fill(0);
      gb1.fill(0);
      g2.fill(0);
      gb2.fill(0);
      for (const i of batch) {
        const row = train.rows[i] as SparseRow;
        const y = train.y[i] as number;
        let z = b2[0] as number;
        if (H === 0) {
          for (let n = 0; n < row.idx.length; n++)
            z += (row.val[n] as number) * (p.w2[row.idx[n] as number] as number);
        } else {
          hiddenLayer(p, row, h);
          for (let j = 0; j < H; j++) z += (h[j] as number) * (p.w2[j] as number);
        }
        const pr = sigmoid(z);
        lossSum += -(y * Math.log(pr + 1e-12) + (1 - y) * Math.log(1 - pr + 1e-12));
        const dz = (pr - y) / batch.length;
        gb2[0] = (gb2[0] as number) + dz;
        if (H === 0) {
          for (let n = 0; n < row.idx.length; n++) {
            const k = row.idx[n] as number;
            g2[k] = (g2[k] as number) + dz * (row.val[n] as number);
          }
          continue;
        }
        for (let j = 0; j < H; j++) {
          g2[j] = (g2[j] as number) + dz * (h[j] as number);
          // dh_j through ReLU; reuse h as the hidden gradient buffer.
          h[j] = (h[j] as number) > 0 ? dz * (p.w2[j] as number) : 0;
          gb1[j] = (gb1[j] as number) + (h[j] as number);
        }
        for (let n = 0; n < row.idx.length; n++) {
          const base = (row.idx[n] as number) * H;
          const x = row.val[n] as number;
          for (let j = 0; j < H; j++) g1[base + j] = (g1[base + j] as number) + x * (h[j] as number);
        }
      }
      for (let k = 0; k < g2.length; k++) g2[k] = (g2[k] as number) + opts.l2 * (p.w2[k] as number);
      for (let k = 0; k < g1.length; k++) g1[k] = (g1[k] as number) + opts.l2 * (p.w1[k] as number);
      for (const o of [opt.w1, opt.b1, opt2.w2, opt2.b2]) o.tick();
      if (H > 0) {
        opt.w1.step(p.w1, g1);
        opt.b1.step(p.b1, gb1);
      }
      opt2.w2.step(p.w2, g2);
      opt2.b2.step(b2, gb2);
      p.b2 = b2[0] as number;
    }
    const validationLoss = logLoss(logits(p, validation.rows), validation.y);
    const trainLoss = lossSum / order.length;
    history.push({ epoch, trainLoss, validationLoss });
    onEpoch?.(epoch, trainLoss, validationLoss);
    if (validationLoss < best.loss - 1e-6) best = { loss: validationLoss, params: cloneParams(p), epoch };
    else if (epoch - best.epoch >= opts.patience) break;
  }
  return { params: best.params, bestEpoch: best.epoch, epochsRun: Math.min(epoch, opts.epochs), history };
}
