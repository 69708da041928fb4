/**
 * Recognition of every line crop of an image: crops are grouped into width buckets (width rounded
 * up to a multiple of `bucketStep`, at least `minWidth`), each bucket split into batches of at
 * most `batchSize`, and all batches are sent to the rec model at once through the invoker, so
 * the scheduler can spread them over instances and batch them with other requests' crops.
 * Padding to a shared bucket width keeps shapes few, which is what lets requests batch together.
 */
import type { ModelInvoker } from '../../runtime/backend.js';
import { InferdError } from '../../errors.js';
import type { CropBatch } from './crop.js';
import { ctcDecode, type DecodedText } from './ctc.js';
import { packCrops, wholeCrops } from './text-input.js';

export interface RecParams {
  model: string;
  /** The rec model's input tensor name. */
  inputName: string;
  bucketStep: number;
  minWidth: number;
  batchSize: number;
}

export const REC_DEFAULTS: RecParams = {
  model: 'ocr-rec',
  inputName: 'x',
  bucketStep: 64,
  minWidth: 128,
  batchSize: 16,
};

export interface RecBatchPlan {
  width: number;
  indices: number[];
}

/** Groups crop indices by bucket width (narrowest first), in batches of at most batchSize. */
export function planRecBatches(
  widths: ArrayLike<number>,
  p: Pick<RecParams, 'bucketStep' | 'minWidth' | 'batchSize'>,
): RecBatchPlan[] {
  const buckets = new Map<number, number[]>();
  for (let i = 0; i < widths.length; i++) {
    const w = Math.max(p.minWidth, Math.ceil(widths[i] / p.bucketStep) * p.bucketStep);
    const list = buckets.get(w) ?? [];
    list.push(i);
    buckets.set(w, list);
  }
  const plans: RecBatchPlan[] = [];
  for (const width of [...buckets.keys()].sort((a, b) => a - b)) {
    const list = buckets.get(width) as number[];
    for (let i = 0; i < list.length; i += p.batchSize)
      plans.push({ width, indices: list.slice(i, i + p.batchSize) });
  }
  return plans;
}

export async function recognizeCrops(
  batch: CropBatch,
  dictionary: readonly string[],
  invoker: ModelInvoker,
  p: RecParams,
  signal?: AbortSignal,
): Promise<DecodedText[]> {
  const results: DecodedText[] = new Array<DecodedText>(batch.count);
  await Promise.all(
    planRecBatches(batch.widths, p).map(async (plan) => {
      const data = packCrops(batch, wholeCrops(batch, plan.indices), plan.width);
      const res = await invoker.infer({
        modelName: p.model,
        inputs: [
          {
            name: p.inputName,
            datatype: 'FP32',
            shape: [plan.indices.length, 3, batch.height, plan.width],
            data,
          },
        ],
        signal,
      });
      const out = res.outputs[0];
      if (
        !out ||
        !(out.data instanceof Float32Array) ||
        out.shape.length !== 3 ||
        out.shape[0] !== plan.indices.length
      ) {
        throw new InferdError('backend_error', `model '${p.model}' returned no [n, T, classes] FP32 output`);
      }
      const [, steps, classes] = out.shape;
      plan.indices.forEach((idx, n) => {
        results[idx] = ctcDecode(out.data as Float32Array, n * steps * classes, steps, classes, dictionary);
      });
    }),
  );
  return results;
}
