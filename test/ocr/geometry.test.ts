import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  convexHull,
  minAreaRect,
  orderQuad,
  rectCorners,
  unclipRect,
  type Point,
} from '../../src/steps/ocr/geometry.js';
import { boxScore, dbPostprocess, textRegions } from '../../src/steps/ocr/db-postprocess.js';
import { detResizeSize, normalizeBgrPlanar, roundHalfEven } from '../../src/steps/ocr/det-preprocess.js';

const close = (a: number, b: number, eps = 1e-6): void => assert.ok(Math.abs(a - b) <= eps, `${a} ≉ ${b}`);

test('detResizeSize rounds each side to the nearest multiple of 32 within the limit', () => {
  assert.deepEqual(detResizeSize(800, 200), { width: 800, height: 192 }); // 200 → 192 (nearest)
  assert.deepEqual(detResizeSize(817, 209), { width: 832, height: 224 }); // 817 → 832, 209 → 224
  assert.deepEqual(detResizeSize(10, 10), { width: 32, height: 32 }); // never below 32
  // 1280×960 with limit 960: ratio 0.75 → 960×720; 720/32 = 22.5 rounds to even (Python) → 704.
  assert.deepEqual(detResizeSize(1280, 960), { width: 960, height: 704 });
  assert.deepEqual(detResizeSize(4000, 3000), { width: 960, height: 704 });
  // 784/32 = 24.5 → 24 → 768; 816/32 = 25.5 → 26 → 832.
  assert.deepEqual(detResizeSize(784, 816), { width: 768, height: 832 });
  assert.equal(roundHalfEven(2.5), 2);
  assert.equal(roundHalfEven(3.5), 4);
  assert.equal(roundHalfEven(-1.5), -2);
  // 'min' grows the shorter side to the limit.
  assert.deepEqual(detResizeSize(100, 50, { limitSideLen: 64, limitType: 'min' }), {
    width: 128,
    height: 64,
  });
});

test('normalizeBgrPlanar writes B, G, R planes with per-plane mean/std', () => {
  const rgb = Uint8Array.from([255, 0, 51, 0, 255, 102]); // two pixels
  const out = normalizeBgrPlanar(rgb, 2, [0.5, 0, 0], [0.5, 1, 1]);
  // plane 0 = B: 51/255 = 0.2 → (0.2 − 0.5)/0.5 = −0.6; 102/255 = 0.4 → −0.2
  close(out[0], -0.6, 1e-6);
  close(out[1], -0.2, 1e-6);
  // plane 1 = G, plane 2 = R
  assert.deepEqual([out[2], out[3], out[4], out[5]], [0, 1, 1, 0]);
});

test('convexHull drops interior and collinear points', () => {
  const hull = convexHull([
    [0, 0],
    [2, 0],
    [4, 0],
    [4, 3],
    [0, 3],
    [2, 1],
  ]);
  assert.equal(hull.length, 4);
});

test('minAreaRect finds a rotated rectangle exactly', () => {
  // A 10×4 rectangle turned by 30° about (50, 40), sampled on its border.
  const a = Math.PI / 6;
  const pts: Point[] = [];
  for (let i = 0; i <= 10; i++) {
    for (const v of [-2, 2]) {
      const u = i - 5;
      pts.push([50 + u * Math.cos(a) - v * Math.sin(a), 40 + u * Math.sin(a) + v * Math.cos(a)]);
    }
  }
  const r = minAreaRect(pts);
  close(Math.max(r.w, r.h), 10, 1e-6);
  close(Math.min(r.w, r.h), 4, 1e-6);
  close(r.cx, 50, 1e-6);
  close(r.cy, 40, 1e-6);
  const dir = r.w > r.h ? r.angle : r.angle + Math.PI / 2;
  close(Math.abs(Math.sin(dir - a)), 0, 1e-6);
});

test('unclipRect grows a rectangle by area·ratio/perimeter on every side', () => {
  const r = unclipRect({ cx: 0, cy: 0, w: 100, h: 10, angle: 0 }, 1.5);
  const d = (100 * 10 * 1.5) / 220;
  close(r.w, 100 + 2 * d);
  close(r.h, 10 + 2 * d);
});

test('orderQuad returns top-left, top-right, bottom-right, bottom-left', () => {
  const q = orderQuad([
    [10, 20],
    [0, 0],
    [10, 0],
    [0, 20],
  ]);
  assert.deepEqual(q, [
    [0, 0],
    [10, 0],
    [10, 20],
    [0, 20],
  ]);
  assert.equal(rectCorners({ cx: 5, cy: 5, w: 10, h: 2, angle: 0 }).length, 4);
});

test('textRegions labels 8-connected blobs and boxScore averages inside the quad', () => {
  const w = 20;
  const h = 10;
  const prob = new Float32Array(w * h);
  for (let y = 2; y <= 4; y++) for (let x = 2; x <= 12; x++) prob[y * w + x] = 0.9; // bar
  prob[5 * w + 13] = 0.9; // diagonal neighbour: same region
  prob[8 * w + 18] = 0.9; // separate dot
  const regions = textRegions(prob, w, h, 0.3, 10);
  assert.equal(regions.length, 2);
  const score = boxScore(prob, w, h, [
    [2, 2],
    [12, 2],
    [12, 4],
    [2, 4],
  ]);
  close(score, 0.9, 1e-6);
});

test('dbPostprocess finds a text bar, unclips it and scales it to the image', () => {
  const w = 64;
  const h = 32;
  const prob = new Float32Array(w * h);
  for (let y = 12; y <= 17; y++) for (let x = 8; x <= 55; x++) prob[y * w + x] = 0.95;
  prob[2 * w + 2] = 0.95; // a speck: below min_size, dropped
  const boxes = dbPostprocess(prob, w, h, 128, 64); // image is twice the map
  assert.equal(boxes.length, 1);
  const [tl, tr, br, bl] = boxes[0].quad;
  // kernel 47×5 px, d = 47·5·1.5/104 ≈ 3.39 → x 4.6..58.4, y 8.6..20.4, ×2
  assert.ok(Math.abs(tl[0] - 9) <= 1 && Math.abs(tl[1] - 17) <= 1, `tl ${tl}`);
  assert.ok(Math.abs(br[0] - 117) <= 1 && Math.abs(br[1] - 41) <= 1, `br ${br}`);
  assert.equal(tr[1], tl[1]);
  assert.equal(bl[0], tl[0]);
  close(boxes[0].score, 0.95, 1e-6);
});
