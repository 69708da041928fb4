/**
 * Detection input, as PaddleOCR's DetResizeForTest + NormalizeImage + ToCHWImage: resize so the
 * longer side is at most `limitSideLen` and both sides are multiples of 32 (the DB network
 * downsamples by 32), then (x/255 − mean)/std per channel into a planar [1, 3, h, w] FP32 tensor.
 * Channel order is BGR, because PaddleOCR's models were trained on OpenCV (BGR) images and apply
 * mean[0]/std[0] to B; the @gutenye reference feeds BGR planes as well.
 */
export interface DetResizeParams {
  limitSideLen: number;
  /** 'max': shrink when the longer side exceeds the limit; 'min': grow when the shorter side is below it. */
  limitType: 'max' | 'min';
}

export const DET_RESIZE_DEFAULTS: DetResizeParams = { limitSideLen: 960, limitType: 'max' };
export const DET_MEAN: readonly [number, number, number] = [0.485, 0.456, 0.406];
export const DET_STD: readonly [number, number, number] = [0.229, 0.224, 0.225];

/** Python's round(): halves go to the even neighbour (PaddleOCR computes sizes in Python). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Target det size; each side rounded to the nearest multiple of 32 (ties to even), never below 32. */
export function detResizeSize(
  width: number,
  height: number,
  p: DetResizeParams = DET_RESIZE_DEFAULTS,
): { width: number; height: number } {
  let ratio = 1;
  if (p.limitType === 'max') {
    if (Math.max(width, height) > p.limitSideLen) ratio = p.limitSideLen / Math.max(width, height);
  } else if (Math.min(width, height) < p.limitSideLen) {
    ratio = p.limitSideLen / Math.min(width, height);
  }
  const round32 = (n: number): number => Math.max(roundHalfEven(Math.trunc(n * ratio) / 32) * 32, 32);
  return { width: round32(width), height: round32(height) };
}

/**
 * Interleaved RGB bytes → planar BGR floats normalised with mean/std (per channel in B, G, R order
 * as PaddleOCR applies them to OpenCV's BGR planes). `out` holds 3·w·h floats.
 */
export function normalizeBgrPlanar(
  rgb: Uint8Array,
  pixels: number,
  mean: readonly number[],
  std: readonly number[],
  out: Float32Array = new Float32Array(3 * pixels),
): Float32Array {
  // Plane p holds source channel 2 − p (B, G, R); scale/offset fold /255, mean and std together.
  for (let plane = 0; plane < 3; plane++) {
    const src = 2 - plane;
    const scale = 1 / (255 * std[plane]);
    const offset = -mean[plane] / std[plane];
    const base = plane * pixels;
    for (let i = 0; i < pixels; i++) out[base + i] = rgb[i * 3 + src] * scale + offset;
  }
  return out;
}
