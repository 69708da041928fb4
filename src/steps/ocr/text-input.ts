/**
 * Packs line crops into the FP32 [n, 3, 48, W] input of the classifier and the recogniser, as
 * PaddleOCR's resize_norm_img: (x/255 − 0.5)/0.5 in BGR plane order, each crop left-aligned and
 * the rest of the row zero (mid-grey after normalisation). A crop wider than W is squeezed to W
 * with linear interpolation along x (the height already matches).
 */
import { InferdError } from '../../errors.js';
import type { Tensor } from '../../core/tensor.js';
import type { CropBatch } from './crop.js';

export function cropBatchFromTensors(crops: Tensor, widths: Tensor): CropBatch {
  const ok =
    crops.datatype === 'UINT8' &&
    crops.shape.length === 4 &&
    crops.shape[3] === 3 &&
    crops.data instanceof Uint8Array &&
    widths.datatype === 'INT32' &&
    widths.data instanceof Int32Array &&
    widths.data.length === crops.shape[0];
  if (!ok) {
    throw new InferdError('invalid_input', `crops must be UINT8 [N, H, W, 3] with INT32 widths [N]`);
  }
  const [count, height, stride] = crops.shape;
  return { data: crops.data as Uint8Array, count, height, stride, widths: widths.data as Int32Array };
}

/** A horizontal span of one crop: columns [x0, x0 + w) of crop `index`. */
export interface CropSpan {
  index: number;
  x0: number;
  w: number;
}

/** The whole of each crop. */
export const wholeCrops = (batch: CropBatch, indices: readonly number[]): CropSpan[] =>
  indices.map((index) => ({ index, x0: 0, w: batch.widths[index] }));

/** Normalised planar BGR for `spans` of `batch`'s crops, each fitted into `width` columns. */
export function packCrops(batch: CropBatch, spans: readonly CropSpan[], width: number): Float32Array {
  const h = batch.height;
  const plane = h * width;
  const out = new Float32Array(spans.length * 3 * plane); // zero = padding
  spans.forEach(({ index: idx, x0: left, w }, n) => {
    const outW = Math.min(w, width);
    const scale = w / outW; // 1 unless squeezed
    const base = idx * h * batch.stride * 3 + left * 3;
    const dst = n * 3 * plane;
    for (let y = 0; y < h; y++) {
      const row = base + y * batch.stride * 3;
      for (let x = 0; x < outW; x++) {
        const sx = Math.min((x + 0.5) * scale - 0.5, w - 1);
        const x0 = Math.max(0, Math.floor(sx));
        const x1 = Math.min(x0 + 1, w - 1);
        const f = Math.max(0, sx - x0);
        for (let c = 0; c < 3; c++) {
          const a = batch.data[row + x0 * 3 + c];
          const b = batch.data[row + x1 * 3 + c];
          const v = a + (b - a) * f;
          // Plane 0 is B (source channel 2).
          out[dst + (2 - c) * plane + y * width + x] = v / 127.5 - 1;
        }
      }
    }
  });
  return out;
}

/** Turns crop `idx` upside down in place (the classifier said 180°). */
export function rotateCrop180(batch: CropBatch, idx: number): void {
  const w = batch.widths[idx];
  const h = batch.height;
  const base = idx * h * batch.stride * 3;
  const tmp = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++)
    tmp.set(batch.data.subarray(base + y * batch.stride * 3, base + (y * batch.stride + w) * 3), y * w * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const s = ((h - 1 - y) * w + (w - 1 - x)) * 3;
      const d = base + (y * batch.stride + x) * 3;
      batch.data[d] = tmp[s];
      batch.data[d + 1] = tmp[s + 1];
      batch.data[d + 2] = tmp[s + 2];
    }
  }
}
