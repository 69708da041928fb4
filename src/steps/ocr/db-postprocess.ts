/**
 * DB (Differentiable Binarization) post-processing, after PaddleOCR's DBPostProcess: binarise the
 * probability map, find connected text regions, fit a minimum-area rectangle to each, score it by
 * the mean probability inside, grow it ("unclip") and scale it back to original-image pixels.
 * One flood fill over the map (typed arrays, O(map pixels)); per region only its row extents are
 * kept, which is all a convex hull needs.
 */
import {
  minAreaRect,
  orderQuad,
  rectCorners,
  unclipRect,
  distance,
  type Point,
  type Quad,
} from './geometry.js';

export interface DbParams {
  /** Pixel is text when probability > thresh. */
  thresh: number;
  /** Region kept when its mean probability ≥ box_thresh. */
  boxThresh: number;
  unclipRatio: number;
  /** Regions considered, in scan order (PaddleOCR max_candidates). */
  maxCandidates: number;
  /** Shorter side in map pixels below which a region is dropped (before unclip; +2 after). */
  minSize: number;
}

export const DB_DEFAULTS: DbParams = {
  thresh: 0.3,
  boxThresh: 0.6,
  unclipRatio: 1.5,
  maxCandidates: 1000,
  minSize: 3,
};

export interface DetectedBox {
  quad: Quad;
  score: number;
}

/** Mean of `prob` over the pixels whose centres lie inside the convex quad (box_score_fast). */
export function boxScore(prob: Float32Array, width: number, height: number, quad: readonly Point[]): number {
  const xs = quad.map((p) => p[0]);
  const ys = quad.map((p) => p[1]);
  const x0 = Math.max(0, Math.floor(Math.min(...xs)));
  const x1 = Math.min(width - 1, Math.ceil(Math.max(...xs)));
  const y0 = Math.max(0, Math.floor(Math.min(...ys)));
  const y1 = Math.min(height - 1, Math.ceil(Math.max(...ys)));
  // Orientation sign of the quad, so "inside" is the same side of every edge.
  const sign =
    (quad[1][0] - quad[0][0]) * (quad[2][1] - quad[0][1]) -
      (quad[1][1] - quad[0][1]) * (quad[2][0] - quad[0][0]) >=
    0
      ? 1
      : -1;
  let sum = 0;
  let n = 0;
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      let inside = true;
      for (let i = 0; i < 4 && inside; i++) {
        const a = quad[i];
        const b = quad[(i + 1) % 4];
        const c = (b[0] - a[0]) * (y - a[1]) - (b[1] - a[1]) * (x - a[0]);
        if (c * sign < -1e-6) inside = false;
      }
      if (inside) {
        sum += prob[y * width + x];
        n++;
      }
    }
  }
  return n === 0 ? 0 : sum / n;
}

/**
 * Labels 8-connected regions of `prob > thresh` and returns, per region, the points a convex hull
 * needs (leftmost and rightmost pixel of each row), at most `maxCandidates` regions.
 */
export function textRegions(
  prob: Float32Array,
  width: number,
  height: number,
  thresh: number,
  maxCandidates: number,
): Point[][] {
  const seen = new Uint8Array(width * height);
  const stack = new Int32Array(width * height);
  const regions: Point[][] = [];
  for (let start = 0; start < prob.length && regions.length < maxCandidates; start++) {
    if (seen[start] || !(prob[start] > thresh)) continue;
    // Flood fill; `stack[0..filled)` ends up holding every pixel of the region.
    let filled = 0;
    let next = 0;
    stack[filled++] = start;
    seen[start] = 1;
    let top = height;
    let bottom = -1;
    while (next < filled) {
      const p = stack[next++];
      const y = (p / width) | 0;
      const x = p - y * width;
      if (y < top) top = y;
      if (y > bottom) bottom = y;
      for (let dy = -1; dy <= 1; dy++) {
        const ny = y + dy;
        if (ny < 0 || ny >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx;
          if (nx < 0 || nx >= width) continue;
          const q = ny * width + nx;
          if (!seen[q] && prob[q] > thresh) {
            seen[q] = 1;
            stack[filled++] = q;
          }
        }
      }
    }
    const rows = bottom - top + 1;
    const minX = new Int32Array(rows).fill(width);
    const maxX = new Int32Array(rows).fill(-1);
    for (let i = 0; i < filled; i++) {
      const p = stack[i];
      const y = (p / width) | 0;
      const x = p - y * width;
      const r = y - top;
      if (x < minX[r]) minX[r] = x;
      if (x > maxX[r]) maxX[r] = x;
    }
    const pts: Point[] = [];
    for (let r = 0; r < rows; r++) {
      pts.push([minX[r], top + r]);
      if (maxX[r] !== minX[r]) pts.push([maxX[r], top + r]);
    }
    regions.push(pts);
  }
  return regions;
}

/**
 * Boxes in original-image pixels. `prob` is the det map (mapWidth × mapHeight); the original image
 * is imageWidth × imageHeight (the map covers it exactly, after the det resize).
 */
export function dbPostprocess(
  prob: Float32Array,
  mapWidth: number,
  mapHeight: number,
  imageWidth: number,
  imageHeight: number,
  params: DbParams = DB_DEFAULTS,
): DetectedBox[] {
  const sx = imageWidth / mapWidth;
  const sy = imageHeight / mapHeight;
  const out: DetectedBox[] = [];
  for (const region of textRegions(prob, mapWidth, mapHeight, params.thresh, params.maxCandidates)) {
    const rect = minAreaRect(region);
    if (Math.min(rect.w, rect.h) < params.minSize) continue;
    const score = boxScore(prob, mapWidth, mapHeight, orderQuad(rectCorners(rect)));
    if (score < params.boxThresh) continue;
    const grown = unclipRect(rect, params.unclipRatio);
    if (Math.min(grown.w, grown.h) < params.minSize + 2) continue;
    const scaled = rectCorners(grown).map(([x, y]): Point => [
      Math.min(Math.max(Math.round(x * sx), 0), imageWidth - 1),
      Math.min(Math.max(Math.round(y * sy), 0), imageHeight - 1),
    ]);
    const quad = orderQuad(scaled);
    // PaddleOCR's filter_tag_det_res: drop slivers of 3 px or less.
    if (Math.floor(distance(quad[0], quad[1])) <= 3 || Math.floor(distance(quad[0], quad[3])) <= 3) continue;
    out.push({ quad, score });
  }
  return out;
}
