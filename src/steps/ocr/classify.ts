/**
 * Text direction classification (PaddleOCR's angle classifier, "use_angle_cls"): the cls model
 * says 0° or 180° for a 3×48×192 input, and crops judged upside down with probability above
 * `thresh` are turned in place before recognition.
 *
 * Unlike PaddleOCR, which squeezes a whole line into 192 columns (a 20:1 line becomes an
 * unreadable smear and is often misjudged: measured on our rendered set), a line wider than 192
 * is judged on up to `maxWindows` native-scale windows of 192 columns spread along it, and their
 * probabilities are averaged.
 *
 * Policy `sample` judges only the `sampleLines` widest lines first (the most evidence per window)
 * and the rest only when one of those is upside down: on an upright page, the common case, the
 * classifier cannot change the answer, and it cost ~6% of a page's time (bench/results/ocr.md).
 * It assumes the lines of a page share an orientation unless the sample shows otherwise; `all`
 * judges every line.
 */
import type { ModelInvoker } from '../../runtime/backend.js';
import { InferdError } from '../../errors.js';
import type { CropBatch } from './crop.js';
import { packCrops, rotateCrop180, type CropSpan } from './text-input.js';

export interface ClsParams {
  model: string;
  inputName: string;
  /** Classifier input width (its height is the crop height, 48). */
  width: number;
  batchSize: number;
  /** Minimum mean probability of "180°" to act on it. */
  thresh: number;
  maxWindows: number;
  policy: ClsPolicy;
  sampleLines: number;
}

type ClsPolicy = 'all' | 'sample';

export const CLS_DEFAULTS: ClsParams = {
  model: 'ocr-cls',
  inputName: 'x',
  width: 192,
  batchSize: 32,
  thresh: 0.9,
  maxWindows: 3,
  policy: 'all',
  sampleLines: 4,
};

/** Windows of at most `width` columns, evenly spread over each crop. */
export function clsWindows(
  widths: ArrayLike<number>,
  width: number,
  maxWindows: number,
  indices: Iterable<number> = Array.from({ length: widths.length }, (_, i) => i),
): CropSpan[] {
  const spans: CropSpan[] = [];
  for (const index of indices) {
    const w = widths[index];
    const n = Math.min(maxWindows, Math.ceil(w / width));
    if (n <= 1) {
      spans.push({ index, x0: 0, w });
      continue;
    }
    for (let k = 0; k < n; k++) spans.push({ index, x0: Math.round(((w - width) * k) / (n - 1)), w: width });
  }
  return spans;
}

/** Indices of the `n` widest crops (ties: first first). */
export function widestCrops(widths: ArrayLike<number>, n: number): number[] {
  return Array.from({ length: widths.length }, (_, i) => i)
    .sort((a, b) => widths[b] - widths[a] || a - b)
    .slice(0, n);
}

/** Returns, per crop, whether it was turned. */
export async function classifyAndFlip(
  batch: CropBatch,
  invoker: ModelInvoker,
  p: ClsParams,
  signal?: AbortSignal,
): Promise<boolean[]> {
  const sum180 = new Float64Array(batch.count);
  const windows = new Int32Array(batch.count);
  const turned = (i: number): boolean => windows[i] > 0 && sum180[i] / windows[i] > p.thresh;
  if (p.policy === 'sample' && batch.count > p.sampleLines) {
    const sample = widestCrops(batch.widths, p.sampleLines);
    await judge(
      batch,
      invoker,
      p,
      clsWindows(batch.widths, p.width, p.maxWindows, sample),
      sum180,
      windows,
      signal,
    );
    if (sample.some(turned)) {
      const inSample = new Set(sample);
      const rest = Array.from({ length: batch.count }, (_, i) => i).filter((i) => !inSample.has(i));
      await judge(
        batch,
        invoker,
        p,
        clsWindows(batch.widths, p.width, p.maxWindows, rest),
        sum180,
        windows,
        signal,
      );
    }
  } else {
    await judge(batch, invoker, p, clsWindows(batch.widths, p.width, p.maxWindows), sum180, windows, signal);
  }
  const flipped: boolean[] = [];
  for (let i = 0; i < batch.count; i++) {
    const turn = turned(i);
    if (turn) rotateCrop180(batch, i);
    flipped.push(turn);
  }
  return flipped;
}

/** Adds each window's probability of 180° to its crop's sum and counts the windows. */
async function judge(
  batch: CropBatch,
  invoker: ModelInvoker,
  p: ClsParams,
  spans: CropSpan[],
  sum180: Float64Array,
  windows: Int32Array,
  signal?: AbortSignal,
): Promise<void> {
  const groups: CropSpan[][] = [];
  for (let i = 0; i < spans.length; i += p.batchSize) groups.push(spans.slice(i, i + p.batchSize));
  await Promise.all(
    groups.map(async (group) => {
      const data = packCrops(batch, group, p.width);
      const res = await invoker.infer({
        modelName: p.model,
        inputs: [
          { name: p.inputName, datatype: 'FP32', shape: [group.length, 3, batch.height, p.width], data },
        ],
        signal,
      });
      const out = res.outputs[0];
      if (
        !out ||
        !(out.data instanceof Float32Array) ||
        out.shape[0] !== group.length ||
        out.shape[1] !== 2
      ) {
        throw new InferdError('backend_error', `model '${p.model}' returned no [n, 2] FP32 output`);
      }
      // Class 1 is 180° in PaddleOCR's label_list ['0', '180'].
      group.forEach((span, n) => {
        sum180[span.index] += (out.data as Float32Array)[n * 2 + 1];
        windows[span.index]++;
      });
    }),
  );
}
