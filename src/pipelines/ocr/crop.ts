/**
 * Cuts each detected quad out of the image straightened to the recogniser's height, as PaddleOCR's
 * get_rotate_crop_image followed by the rec resize, fused into one resampling pass: output pixel
 * (u, v) maps bilinearly into the quad (exact for the rectangles DB produces), and the source is
 * sampled with bilinear interpolation, averaged over k×k sub-samples when shrinking so small
 * output does not alias. Crops at least 1.5× taller than wide are turned 90° counter-clockwise
 * (vertical text), as PaddleOCR does. Cost is O(output pixels · k²), independent of image size.
 */
import type { Tensor } from '../../core/tensor.js';
import { distance, type Point, type Quad } from './geometry.js';
import type { RgbImage } from './image.js';

export interface CropParams {
  /** Output height, pixels (the rec model's input height). */
  height: number;
  /** Widest crop; longer lines are squeezed to it. */
  maxWidth: number;
}

export const CROP_DEFAULTS: CropParams = { height: 48, maxWidth: 1600 };

/** A batch of crops: UINT8 [N, height, maxW, 3], left-aligned, with each crop's real width. */
export interface CropBatch {
  data: Uint8Array;
  count: number;
  height: number;
  /** Row stride in pixels (the widest crop). */
  stride: number;
  widths: Int32Array;
}

/** Corners in output order (top-left, top-right, bottom-right, bottom-left) and the crop's native size. */
export function straightenedCorners(q: Quad): { corners: Quad; width: number; height: number } {
  const w = Math.max(distance(q[0], q[1]), distance(q[2], q[3]));
  const h = Math.max(distance(q[0], q[3]), distance(q[1], q[2]));
  if (h >= 1.5 * w) return { corners: [q[1], q[2], q[3], q[0]], width: h, height: w };
  return { corners: q, width: w, height: h };
}

function sampleInto(
  img: RgbImage,
  c: Quad,
  outW: number,
  outH: number,
  k: number,
  out: Uint8Array,
  offset: number,
  stride: number,
): void {
  const { data, width, height } = img;
  const [tl, tr, br, bl] = c;
  const inv = 1 / (k * k);
  const acc = [0, 0, 0];
  for (let v = 0; v < outH; v++) {
    for (let u = 0; u < outW; u++) {
      acc[0] = acc[1] = acc[2] = 0;
      for (let sv = 0; sv < k; sv++) {
        const t = (v + (sv + 0.5) / k) / outH;
        for (let su = 0; su < k; su++) {
          const s = (u + (su + 0.5) / k) / outW;
          // Bilinear map of the unit square onto the quad (corners are in pixel-index coordinates).
          const x = (1 - t) * ((1 - s) * tl[0] + s * tr[0]) + t * ((1 - s) * bl[0] + s * br[0]);
          const y = (1 - t) * ((1 - s) * tl[1] + s * tr[1]) + t * ((1 - s) * bl[1] + s * br[1]);
          const xc = Math.min(Math.max(x, 0), width - 1);
          const yc = Math.min(Math.max(y, 0), height - 1);
          const x0 = Math.floor(xc);
          const y0 = Math.floor(yc);
          const x1 = Math.min(x0 + 1, width - 1);
          const y1 = Math.min(y0 + 1, height - 1);
          const fx = xc - x0;
          const fy = yc - y0;
          const i00 = (y0 * width + x0) * 3;
          const i01 = (y0 * width + x1) * 3;
          const i10 = (y1 * width + x0) * 3;
          const i11 = (y1 * width + x1) * 3;
          for (let ch = 0; ch < 3; ch++) {
            const top = data[i00 + ch] + (data[i01 + ch] - data[i00 + ch]) * fx;
            const bot = data[i10 + ch] + (data[i11 + ch] - data[i10 + ch]) * fx;
            acc[ch] += top + (bot - top) * fy;
          }
        }
      }
      const o = offset + (v * stride + u) * 3;
      out[o] = Math.round(acc[0] * inv);
      out[o + 1] = Math.round(acc[1] * inv);
      out[o + 2] = Math.round(acc[2] * inv);
    }
  }
}

/** Crops, and each quad re-ordered so corner 0 is the crop's top-left (see straightenedCorners). */
export function cropQuads(
  img: RgbImage,
  quads: readonly Quad[],
  p: CropParams = CROP_DEFAULTS,
): { batch: CropBatch; oriented: Quad[] } {
  const plans = quads.map((q) => {
    const s = straightenedCorners(q);
    const scale = p.height / Math.max(s.height, 1);
    const width = Math.max(1, Math.min(p.maxWidth, Math.round(s.width * scale)));
    // Sub-samples per axis: enough that each covers about one source pixel when shrinking.
    const k = Math.min(4, Math.max(1, Math.ceil(s.height / p.height), Math.ceil(s.width / width)));
    return { corners: s.corners, width, k };
  });
  const stride = plans.reduce((m, pl) => Math.max(m, pl.width), 0);
  const data = new Uint8Array(quads.length * p.height * stride * 3);
  plans.forEach((pl, i) =>
    sampleInto(img, pl.corners, pl.width, p.height, pl.k, data, i * p.height * stride * 3, stride),
  );
  const batch: CropBatch = {
    data,
    count: quads.length,
    height: p.height,
    stride,
    widths: Int32Array.from(plans.map((pl) => pl.width)),
  };
  return { batch, oriented: plans.map((pl) => pl.corners) };
}

export function cropTensors(batch: CropBatch): { crops: Tensor; widths: Tensor } {
  return {
    crops: {
      name: 'crops',
      datatype: 'UINT8',
      shape: [batch.count, batch.height, batch.stride, 3],
      data: batch.data,
    },
    widths: { name: 'widths', datatype: 'INT32', shape: [batch.count], data: batch.widths },
  };
}

/** Quads as FP32 [N, 4, 2] (x, y per corner) and back. */
export function quadsToTensor(name: string, quads: readonly Quad[]): Tensor {
  const data = new Float32Array(quads.length * 8);
  quads.forEach((q, i) => q.forEach((pt, j) => data.set(pt, i * 8 + j * 2)));
  return { name, datatype: 'FP32', shape: [quads.length, 4, 2], data };
}

export function quadsFromTensor(t: Tensor): Quad[] {
  const d = t.data as Float32Array;
  const quads: Quad[] = [];
  for (let i = 0; i < t.shape[0]; i++) {
    const pt = (j: number): Point => [d[i * 8 + j * 2], d[i * 8 + j * 2 + 1]];
    quads.push([pt(0), pt(1), pt(2), pt(3)]);
  }
  return quads;
}
