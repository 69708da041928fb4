/**
 * Line crops as PaddleOCR makes them: get_rotate_crop_image (perspective warp, bicubic, replicated
 * border; np.rot90 for vertical text) then resize_norm_img's bilinear cv2.resize to height 48.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  cropQuads,
  linearTaps,
  squareToQuad,
  straightenedCorners,
  warpQuad,
  warpSize,
  type CropParams,
} from '../../src/steps/ocr/crop.js';
import type { Point, Quad } from '../../src/steps/ocr/geometry.js';
import type { RgbImage } from '../../src/steps/ocr/image.js';

/** A deterministic, non-smooth test image (every pixel differs from its neighbours). */
function pattern(width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7919 + ((i / 3) | 0) * 31) % 256;
  return { data, width, height };
}

const rect = (x: number, y: number, w: number, h: number): Quad => [
  [x, y],
  [x + w, y],
  [x + w, y + h],
  [x, y + h],
];

/** Pixel (x, y) of crop `i` of a batch. */
function cropPixel(batch: ReturnType<typeof cropQuads>['batch'], i: number, x: number, y: number): number[] {
  const o = ((i * batch.height + y) * batch.stride + x) * 3;
  return [...batch.data.subarray(o, o + 3)];
}

const px = (img: RgbImage, x: number, y: number): number[] => [
  ...img.data.subarray((y * img.width + x) * 3, (y * img.width + x) * 3 + 3),
];

test('squareToQuad maps the unit square corners onto the quad (perspective included)', () => {
  const q: Quad = [
    [10.5, 20],
    [200, 35.25],
    [190, 90],
    [5, 70.5],
  ];
  const [a, b, c, d, e, f, g, h] = squareToQuad(q);
  const map = (u: number, v: number): Point => {
    const z = g * u + h * v + 1;
    return [(a * u + b * v + c) / z, (d * u + e * v + f) / z];
  };
  const corners: Point[] = [map(0, 0), map(1, 0), map(1, 1), map(0, 1)];
  corners.forEach((p, i) => {
    assert.ok(Math.abs(p[0] - q[i][0]) < 1e-9 && Math.abs(p[1] - q[i][1]) < 1e-9, `corner ${i}: ${p}`);
  });
});

test('an axis-aligned box 48 px tall is copied pixel for pixel (warp and resize are identities)', () => {
  const img = pattern(120, 80);
  const { batch } = cropQuads(img, [rect(10, 5, 90, 48)]);
  assert.equal(batch.widths[0], 90);
  for (let y = 0; y < 48; y++)
    for (let x = 0; x < 90; x++) assert.deepEqual(cropPixel(batch, 0, x, y), px(img, 10 + x, 5 + y));
});

test('crop sizes follow get_rotate_crop_image (int of the longer sides) and resize_norm_img (ceil)', () => {
  // Sides 39 and 9: width ceil(48 · (39 / 9)) = 208.
  assert.deepEqual(warpSize(rect(0, 0, 39, 9)), { width: 39, height: 9 });
  const img = pattern(40, 10);
  const { batch } = cropQuads(img, [rect(0, 0, 39, 9)]);
  assert.equal(batch.height, 48);
  assert.equal(batch.widths[0], Math.ceil(48 * (39 / 9)));
  // A 3-4-5 slanted box: sides of length 50.4 and 10.2 truncate to 50 and 10.
  const slanted: Quad = [
    [0, 0],
    [40.32, 30.24],
    [34.2, 38.4],
    [-6.12, 8.16],
  ];
  assert.deepEqual(warpSize(slanted), { width: 50, height: 10 });
});

test('a box at least 1.5× taller than wide is turned counter-clockwise (np.rot90)', () => {
  const img = pattern(60, 200);
  const tall = rect(5, 10, 16, 96); // 16 wide, 96 tall: the turned crop is 96 × 16, resized to 288 × 48
  const s = straightenedCorners(tall);
  assert.deepEqual(s.corners[0], tall[1]); // the old top-right becomes the top-left
  assert.equal(s.width, 96);
  assert.equal(s.height, 16);
  const { batch, oriented } = cropQuads(img, [tall]);
  assert.deepEqual(oriented[0], s.corners);
  assert.equal(batch.widths[0], 288);
  // Upscaling 3× exactly: output (3j + 1, 3i + 1) lands on turned pixel (j, i) = warp (row j, column 15 − i).
  for (const [i, j] of [
    [0, 0],
    [15, 95],
    [7, 40],
  ]) {
    assert.deepEqual(
      cropPixel(batch, 0, 3 * j + 1, 3 * i + 1),
      px(img, 5 + 15 - i, 10 + j),
      `turned (${i}, ${j})`,
    );
  }
});

test('cropQuads equals the two full passes: whole warp, then bilinear resize (shrinking, rotated)', () => {
  const img = pattern(300, 200);
  const quads: Quad[] = [
    [
      [20, 30],
      [260, 90],
      [245, 150],
      [5, 90],
    ], // rotated ~14°, 247 × 61: shrinks to height 48
    [
      [-4, -3],
      [120, -3],
      [120, 20],
      [-4, 20],
    ], // partly outside: border replicated
    [
      [100.5, 120.25],
      [280, 130],
      [270.75, 185],
      [95, 170],
    ], // perspective, fractional corners
  ];
  const p: CropParams = { height: 48, maxWidth: 1600 };
  const { batch } = cropQuads(img, quads, p);
  quads.forEach((q, i) => {
    const s = warpSize(q);
    const full = warpQuad(img, q, s.width, s.height);
    const w = batch.widths[i];
    assert.equal(w, Math.ceil(48 * (s.width / s.height)));
    const tx = linearTaps(full.width, w);
    const ty = linearTaps(full.height, 48);
    for (let y = 0; y < 48; y++) {
      for (let x = 0; x < w; x++) {
        const a = px(full, tx.i0[x], ty.i0[y]);
        const b = px(full, tx.i1[x], ty.i0[y]);
        const c = px(full, tx.i0[x], ty.i1[y]);
        const d = px(full, tx.i1[x], ty.i1[y]);
        const want = a.map((_, ch) => {
          const top = a[ch] + (b[ch] - a[ch]) * tx.f[x];
          const bot = c[ch] + (d[ch] - c[ch]) * tx.f[x];
          return Math.min(255, Math.max(0, Math.round(top + (bot - top) * ty.f[y])));
        });
        const got = cropPixel(batch, i, x, y);
        // Uint8ClampedArray rounds halves to even; Math.round rounds them up.
        assert.ok(
          got.every((v, ch) => Math.abs(v - want[ch]) <= 1),
          `quad ${i} (${x}, ${y}): ${got} vs ${want}`,
        );
      }
    }
  });
});

test('linearTaps follows cv2.resize INTER_LINEAR: half-pixel centres, clamped at the edges', () => {
  const up = linearTaps(4, 8); // source positions −0.25 (→ 0), 0.25, 0.75, …, 3.25 (→ 3)
  assert.deepEqual([...up.i0], [0, 0, 0, 1, 1, 2, 2, 3]);
  assert.deepEqual([...up.i1], [1, 1, 1, 2, 2, 3, 3, 3]);
  assert.deepEqual([...up.f], [0, 0.25, 0.75, 0.25, 0.75, 0.25, 0.75, 0]);
  const down = linearTaps(9, 3); // 1, 4, 7: whole pixels, no anti-aliasing
  assert.deepEqual([...down.i0], [1, 4, 7]);
  assert.deepEqual([...down.f], [0, 0, 0]);
});
