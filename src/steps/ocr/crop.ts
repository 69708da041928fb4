/**
 * Cuts each detected quad out of the image and resizes it to the recogniser's height, exactly as
 * PaddleOCR does (tools/infer/predict_system.py get_rotate_crop_image, then predict_rec.py
 * resize_norm_img), in two passes:
 *
 * 1. Perspective warp of the quad to an int(width) × int(height) image (the longer of each pair of
 *    opposite sides, truncated), corner 0 to pixel (0, 0) and corner 2 to (width, height), sampled
 *    with OpenCV's bicubic kernel (INTER_CUBIC, A = −0.75) and replicated borders. A crop at least
 *    1.5× taller than wide is then turned 90° counter-clockwise (np.rot90: vertical text).
 * 2. Bilinear resize (cv2.resize INTER_LINEAR: half-pixel centres, no anti-aliasing) to the rec
 *    height and ceil(height · aspect) columns, at most `maxWidth`.
 *
 * Only the warped pixels that the resize reads are computed (see cropLine), so a crop costs at most
 * a few samples per output pixel however large its box; warped pixels that land on whole source
 * pixels (axis-aligned boxes) are copied. Measured against OpenCV.js on the rendered test set: within
 * 2 grey levels (OpenCV's fixed-point weights). The @gutenye reference warps the same way; its
 * second pass differs (lanczos3 resize, input scaled to [0, 1]), which PaddleOCR, whose models
 * these are, does not do.
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

/** Python's int() of a non-negative length. */
const trunc = (x: number): number => Math.max(0, Math.trunc(x));

/** The warped crop's size in pixels, as get_rotate_crop_image computes it (before any turn). */
export function warpSize(q: Quad): { width: number; height: number } {
  return {
    width: trunc(Math.max(distance(q[0], q[1]), distance(q[2], q[3]))),
    height: trunc(Math.max(distance(q[0], q[3]), distance(q[1], q[2]))),
  };
}

/** get_rotate_crop_image turns a crop when its height / width ≥ 1.5 (integer sizes). */
const isVertical = (s: { width: number; height: number }): boolean => s.height >= 1.5 * s.width;

/**
 * Corners in output order (top-left, top-right, bottom-right, bottom-left) and the crop's size
 * after the turn: a vertical crop's top-left is the quad's top-right.
 */
export function straightenedCorners(q: Quad): { corners: Quad; width: number; height: number } {
  const s = warpSize(q);
  if (isVertical(s)) return { corners: [q[1], q[2], q[3], q[0]], width: s.height, height: s.width };
  return { corners: q, width: s.width, height: s.height };
}

/**
 * Homography taking (u, v) in the unit square to the quad (Heckbert's square-to-quad mapping):
 * (0,0)→q0, (1,0)→q1, (1,1)→q2, (0,1)→q3. Returns [a, b, c, d, e, f, g, h] with
 * x = (a·u + b·v + c) / (g·u + h·v + 1), y = (d·u + e·v + f) / (g·u + h·v + 1).
 */
export function squareToQuad(q: Quad): number[] {
  const [[x0, y0], [x1, y1], [x2, y2], [x3, y3]] = q;
  const sx = x0 - x1 + x2 - x3;
  const sy = y0 - y1 + y2 - y3;
  let g = 0;
  let h = 0;
  const den = (x1 - x2) * (y3 - y2) - (x3 - x2) * (y1 - y2);
  if ((sx !== 0 || sy !== 0) && den !== 0) {
    g = (sx * (y3 - y2) - (x3 - x2) * sy) / den;
    h = ((x1 - x2) * sy - sx * (y1 - y2)) / den;
  }
  return [x1 - x0 + g * x1, x3 - x0 + h * x3, x0, y1 - y0 + g * y1, y3 - y0 + h * y3, y0, g, h];
}

/** OpenCV's interpolateCubic (A = −0.75): the four tap weights for fractional offset t ∈ [0, 1). */
function cubicWeights(t: number): number[] {
  const A = -0.75;
  const w0 = ((A * (t + 1) - 5 * A) * (t + 1) + 8 * A) * (t + 1) - 4 * A;
  const w1 = ((A + 2) * t - (A + 3)) * t * t + 1;
  const w2 = ((A + 2) * (1 - t) - (A + 3)) * (1 - t) * (1 - t) + 1;
  return [w0, w1, w2, 1 - w0 - w1 - w2];
}

/** OpenCV's remap resolution: source positions are rounded to 1/32 pixel (INTER_BITS = 5). */
const TAB = 32;
/** Cubic tap weights for each 1/32 offset, 4 per offset. */
const CUBIC_TAB = Float64Array.from({ length: TAB * 4 }, (_, i) => cubicWeights((i >> 2) / TAB)[i & 3]);

/**
 * Pass 1 at chosen pixels only: warpPerspective(INTER_CUBIC, BORDER_REPLICATE) of quad `q` onto a
 * `w` × `h` image, evaluated at columns `xs` and rows `ys` of that image, into a |ys| × |xs| RGB
 * grid. Pixel (x, y) samples the source at H(x / w, y / h), H the square-to-quad homography,
 * rounded to 1/32 pixel as OpenCV does.
 */
function warpGrid(
  img: RgbImage,
  q: Quad,
  w: number,
  h: number,
  xs: ArrayLike<number>,
  ys: ArrayLike<number>,
): Uint8Array {
  const { data, width: iw, height: ih } = img;
  const out = new Uint8Array(xs.length * ys.length * 3);
  // Stores through a clamped view round and saturate, as OpenCV's saturate_cast<uchar>.
  const sat = new Uint8ClampedArray(out.buffer);
  const [a, b, c, d, e, f, g, hh] = squareToQuad(q);
  const rowBytes = iw * 3;
  // Positions in 1/32 pixel, kept well inside int32 so >> and & floor correctly.
  const LIMIT = 1 << 28;
  const fixed = (p: number): number => Math.round(Math.min(Math.max(p * TAB, -LIMIT), LIMIT));
  let o = 0;
  for (let yi = 0; yi < ys.length; yi++) {
    const v = ys[yi] / h;
    const nx = b * v + c;
    const ny = e * v + f;
    const nz = hh * v + 1;
    for (let xi = 0; xi < xs.length; xi++, o += 3) {
      const u = xs[xi] / w;
      const z = g * u + nz;
      const sx = fixed((a * u + nx) / z);
      const sy = fixed((d * u + ny) / z);
      const x0 = sx >> 5;
      const y0 = sy >> 5;
      const fx = sx & (TAB - 1);
      const fy = sy & (TAB - 1);
      if (fx === 0 && fy === 0) {
        // On a source pixel: the cubic weights are (0, 1, 0, 0) in both axes.
        const i =
          (y0 < 0 ? 0 : y0 >= ih ? ih - 1 : y0) * rowBytes + (x0 < 0 ? 0 : x0 >= iw ? iw - 1 : x0) * 3;
        out[o] = data[i];
        out[o + 1] = data[i + 1];
        out[o + 2] = data[i + 2];
        continue;
      }
      // Byte offsets of the 4×4 neighbourhood's columns and rows, clamped (BORDER_REPLICATE).
      let c0: number, c1: number, c2: number, c3: number, r0: number, r1: number, r2: number, r3: number;
      if (x0 >= 1 && x0 + 2 < iw && y0 >= 1 && y0 + 2 < ih) {
        c0 = (x0 - 1) * 3;
        c1 = c0 + 3;
        c2 = c0 + 6;
        c3 = c0 + 9;
        r0 = (y0 - 1) * rowBytes;
        r1 = r0 + rowBytes;
        r2 = r1 + rowBytes;
        r3 = r2 + rowBytes;
      } else {
        const cx = (k: number): number => Math.min(Math.max(x0 + k, 0), iw - 1) * 3;
        const cy = (k: number): number => Math.min(Math.max(y0 + k, 0), ih - 1) * rowBytes;
        [c0, c1, c2, c3] = [cx(-1), cx(0), cx(1), cx(2)];
        [r0, r1, r2, r3] = [cy(-1), cy(0), cy(1), cy(2)];
      }
      const tx = fx * 4;
      const ty = fy * 4;
      const wx0 = CUBIC_TAB[tx];
      const wx1 = CUBIC_TAB[tx + 1];
      const wx2 = CUBIC_TAB[tx + 2];
      const wx3 = CUBIC_TAB[tx + 3];
      const wy0 = CUBIC_TAB[ty];
      const wy1 = CUBIC_TAB[ty + 1];
      const wy2 = CUBIC_TAB[ty + 2];
      const wy3 = CUBIC_TAB[ty + 3];
      for (let ch = 0; ch < 3; ch++) {
        const k0 = c0 + ch;
        const k1 = c1 + ch;
        const k2 = c2 + ch;
        const k3 = c3 + ch;
        sat[o + ch] =
          wy0 * (wx0 * data[r0 + k0] + wx1 * data[r0 + k1] + wx2 * data[r0 + k2] + wx3 * data[r0 + k3]) +
          wy1 * (wx0 * data[r1 + k0] + wx1 * data[r1 + k1] + wx2 * data[r1 + k2] + wx3 * data[r1 + k3]) +
          wy2 * (wx0 * data[r2 + k0] + wx1 * data[r2 + k1] + wx2 * data[r2 + k2] + wx3 * data[r2 + k3]) +
          wy3 * (wx0 * data[r3 + k0] + wx1 * data[r3 + k1] + wx2 * data[r3 + k2] + wx3 * data[r3 + k3]);
      }
    }
  }
  return out;
}

const range = (n: number): Int32Array => Int32Array.from({ length: n }, (_, i) => i);

/** The whole of pass 1: get_rotate_crop_image's warp, before the turn for vertical text. */
export function warpQuad(img: RgbImage, q: Quad, w: number, h: number): RgbImage {
  return { data: warpGrid(img, q, w, h, range(w), range(h)), width: w, height: h };
}

/** cv2.resize INTER_LINEAR along one axis: per output index, both source indices and the weight of the second. */
interface LinearTaps {
  i0: Int32Array;
  i1: Int32Array;
  f: Float64Array;
}

/** Output k samples source (k + 0.5) · src/dst − 0.5, clamped to the edge pixels. */
export function linearTaps(src: number, dst: number): LinearTaps {
  const i0 = new Int32Array(dst);
  const i1 = new Int32Array(dst);
  const f = new Float64Array(dst);
  const scale = src / dst;
  for (let k = 0; k < dst; k++) {
    const s = Math.min(Math.max((k + 0.5) * scale - 0.5, 0), src - 1);
    const lo = Math.floor(s);
    i0[k] = lo;
    i1[k] = Math.min(lo + 1, src - 1);
    f[k] = s - lo;
  }
  return { i0, i1, f };
}

/**
 * The source indices that `t` reads (ascending), and the taps rewritten as byte offsets into a
 * grid holding only those, `unit` bytes apart.
 */
function compactTaps(
  t: LinearTaps,
  src: number,
  unit: number,
): { used: Int32Array; i0: Int32Array; i1: Int32Array } {
  const pos = new Int32Array(src).fill(-1);
  for (let k = 0; k < t.i0.length; k++) pos[t.i0[k]] = pos[t.i1[k]] = 0;
  const used: number[] = [];
  for (let i = 0; i < src; i++) if (pos[i] === 0) pos[i] = used.push(i) - 1;
  return {
    used: Int32Array.from(used),
    i0: t.i0.map((i) => pos[i] * unit),
    i1: t.i1.map((i) => pos[i] * unit),
  };
}

/**
 * One line crop as PaddleOCR makes it, written at `out[offset]` (row stride `stride` pixels):
 * get_rotate_crop_image (warp, then np.rot90 for vertical text) and resize_norm_img's cv2.resize
 * to `p.height` rows and ceil(p.height · (w / h)) columns (at most p.maxWidth). The bilinear
 * resize reads at most two pixels per output row and column, so only those pixels of the warp are
 * computed: the same result as the two full passes, at a cost bounded by the output size however
 * large the box. Returns the crop's width.
 */
function cropLine(
  img: RgbImage,
  q: Quad,
  p: CropParams,
  out: Uint8Array,
  offset: number,
  stride: number,
): number {
  const s = warpSize(q);
  const w = Math.max(1, s.width);
  const h = Math.max(1, s.height);
  const vertical = isVertical(s);
  // The crop after the turn: np.rot90 makes crop(i, j) = warp(j, w − 1 − i), h wide and w tall.
  const [cw, chh] = vertical ? [h, w] : [w, h];
  const outW = cropWidth(q, p);
  const tx = linearTaps(cw, outW);
  const ty = linearTaps(chh, p.height);
  let cols: ReturnType<typeof compactTaps>;
  let rows: ReturnType<typeof compactTaps>;
  let grid: Uint8Array;
  if (!vertical) {
    // Grid rows are crop rows, grid columns crop columns.
    cols = compactTaps(tx, cw, 3);
    rows = compactTaps(ty, chh, 3 * cols.used.length);
    grid = warpGrid(img, q, w, h, cols.used, rows.used);
  } else {
    // Grid rows are crop columns (warp rows), grid columns crop rows (warp column w − 1 − i).
    rows = compactTaps(ty, chh, 3);
    cols = compactTaps(tx, cw, 3 * rows.used.length);
    grid = warpGrid(
      img,
      q,
      w,
      h,
      rows.used.map((i) => w - 1 - i),
      cols.used,
    );
  }
  const sat = new Uint8ClampedArray(out.buffer, out.byteOffset, out.length);
  for (let y = 0; y < p.height; y++) {
    const r0 = rows.i0[y];
    const r1 = rows.i1[y];
    const fy = ty.f[y];
    let o = offset + y * stride * 3;
    for (let x = 0; x < outW; x++, o += 3) {
      const a = r0 + cols.i0[x];
      const b = r0 + cols.i1[x];
      const c = r1 + cols.i0[x];
      const d = r1 + cols.i1[x];
      const fx = tx.f[x];
      for (let ch = 0; ch < 3; ch++) {
        const top = grid[a + ch] + (grid[b + ch] - grid[a + ch]) * fx;
        const bot = grid[c + ch] + (grid[d + ch] - grid[c + ch]) * fx;
        sat[o + ch] = top + (bot - top) * fy;
      }
    }
  }
  return outW;
}

/** The width cropLine gives quad `q`: resize_norm_img's ceil(imgH · (w / h)), in that order, capped. */
function cropWidth(q: Quad, p: CropParams): number {
  const s = straightenedCorners(q);
  const ratio = Math.max(1, s.width) / Math.max(1, s.height);
  return Math.max(1, Math.min(p.maxWidth, Math.ceil(p.height * ratio)));
}

/** Crops, and each quad re-ordered so corner 0 is the crop's top-left (see straightenedCorners). */
export function cropQuads(
  img: RgbImage,
  quads: readonly Quad[],
  p: CropParams = CROP_DEFAULTS,
): { batch: CropBatch; oriented: Quad[] } {
  const widths = Int32Array.from(quads.map((q) => cropWidth(q, p)));
  const stride = widths.reduce((m, w) => Math.max(m, w), 0);
  const data = new Uint8Array(quads.length * p.height * stride * 3);
  quads.forEach((q, i) => cropLine(img, q, p, data, i * p.height * stride * 3, stride));
  const batch: CropBatch = { data, count: quads.length, height: p.height, stride, widths };
  return { batch, oriented: quads.map((q) => straightenedCorners(q).corners) };
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
