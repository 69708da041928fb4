/**
 * Text direction classification (PaddleOCR's angle classifier, "use_angle_cls"): the cls model
 * says 0° or 180° for a 3×48×192 input, and crops judged upside down with probability above
 * `thresh` are turned in place before recognition.
 *
 * Unlike PaddleOCR, which squeezes a whole line into 192 columns (a 20:1 line becomes an
 * unreadable smear and is often misjudged: measured on our rendered set), a line wider than 192
 * is judged on up to `maxWindows` native-scale windows of 192 columns spread along it, and their
 * probabilities are averaged.
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
}

export const CLS_DEFAULTS: ClsParams = {
  model: 'ocr-cls',
  inputName: 'x',
  width: 192,
  batchSize: 32,
  thresh: 0.9,
  maxWindows: 3,
};

/** Windows of at most `width` columns, evenly spread over each crop. */
export function clsWindows(widths: ArrayLike<number>, width: number, maxWindows: number): CropSpan[] {
  const spans: CropSpan[] = [];
  for (let index = 0; index < widths.length; index++) {
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

/** Returns, per crop, whether it was turned. */
export async function classifyAndFlip(
  batch: CropBatch,
  invoker: ModelInvoker,
  p: ClsParams,
  signal?: AbortSignal,
): Promise<boolean[]> {
  const spans = clsWindows(batch.widths, p.width, p.maxWindows);
  const sum180 = new Float64Array(batch.count);
  const windows = new Int32Array(batch.count);
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
  const flipped: boolean[] = [];
  for (let i = 0; i < batch.count; i++) {
    const turn = windows[i] > 0 && sum180[i] / windows[i] > p.thresh;
    if (turn) rotateCrop180(batch, i);
    flipped.push(turn);
  }
  return flipped;
}
