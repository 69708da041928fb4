/**
 * Drift on image inputs and answers (src/core/drift-features.ts, drift-reference.ts v2, and the
 * live window): known answers for each new feature kind, a window fed the reference's own items
 * has PSI 0, and the v2 schema's rules (v1 files still read, v2 kinds refused under v1).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { binOf, PSI_ALERT } from '../../src/core/drift.js';
import { itemValue, predictionValue, type DriftFeature } from '../../src/core/drift-features.js';
import { parseDriftReference } from '../../src/core/drift-reference.js';
import { DriftWindow } from '../../src/observability/drift-window.js';
import { blackPng } from './helpers/png.js';

const page = (width: number, height: number) =>
  sharp({ create: { width, height, channels: 3, background: '#fff' } })
    .png()
    .toBuffer();
const lines = (...confidences: number[]) => ({
  lines: confidences.map((confidence) => ({ text: 'x', confidence })),
});

const pixels: DriftFeature = { name: 'image_pixels', kind: 'image_pixels', edges: [100_000, 1_000_000] };
const longSide: DriftFeature = { name: 'image_long_side', kind: 'image_long_side', edges: [500, 1000] };
const lineCount: DriftFeature = { name: 'line_count', kind: 'output_count', output: 'lines', edges: [0, 2] };
const confidence = { output: 'lines', mean_of: 'confidence', edges: [0.8, 0.9] };

test('image features: pixel count and longer side from the header; none for text or junk', async () => {
  const png = await page(640, 480);
  assert.equal(itemValue(pixels, png, {}), 307_200);
  assert.equal(itemValue(longSide, png, {}), 640);
  assert.equal(itemValue(longSide, blackPng(30, 4000), {}), 4000);
  assert.equal(itemValue(pixels, 'a text', {}), undefined);
  assert.equal(itemValue(pixels, Buffer.from('not an image'), {}), undefined);
  assert.equal(itemValue({ name: 'len', kind: 'length', edges: [] }, png, {}), undefined);
  // A header's claim of 2^32 − 1 squared is a finite number in the open top bin, nothing more.
  const huge = blackPng(1, 1);
  huge.writeUInt32BE(0xffffffff, 16);
  huge.writeUInt32BE(0xffffffff, 20);
  const v = itemValue(pixels, huge, {})!;
  assert.ok(Number.isFinite(v));
  assert.equal(binOf(v, pixels.edges), 2);
});

test('answer features: array length and the mean of a numeric property', () => {
  assert.equal(itemValue(lineCount, undefined, lines(0.9, 0.8, 0.7)), 3);
  assert.equal(itemValue(lineCount, undefined, lines()), 0);
  assert.equal(itemValue(lineCount, undefined, { lines: 'three' }), undefined);
  assert.equal(predictionValue(confidence, lines(0.5, 1, 0.75)), 0.75);
  assert.equal(predictionValue(confidence, lines()), undefined, 'no lines, no mean');
  const odd = { lines: [{ confidence: 1 }, null, { confidence: 'high' }, 7, { confidence: 0.5 }] };
  assert.equal(predictionValue(confidence, odd), 0.75, 'elements without a number are skipped');
  assert.equal(predictionValue({ output: 'probability', edges: [] }, { probability: 0.3 }), 0.3);
  assert.equal(predictionValue({ output: 'probability', edges: [] }, { probability: NaN }), undefined);
});

test('a v2 window fed the reference items has PSI 0; smaller pages with one line pass the alert', async () => {
  const reference = parseDriftReference({
    schema: 'inferd.drift-reference/v2',
    input: 'image',
    // 10 pages of 640×480 (2 lines, mean 0.85) and 10 of 1200×900 (5 lines, mean 0.95).
    features: [
      { ...pixels, counts: [0, 10, 10] },
      { ...longSide, counts: [0, 10, 10] },
      { ...lineCount, counts: [0, 10, 10] },
    ],
    prediction: { ...confidence, counts: [0, 10, 10] },
  });
  const w = new DriftWindow(reference, 1000, 20);
  assert.deepEqual(w.outputs, ['lines']);
  const small = await page(640, 480);
  const large = await page(1200, 900);
  for (let i = 0; i < 10; i++) {
    w.observe(small, lines(0.8, 0.9));
    w.observe(large, lines(0.9, 0.95, 0.95, 1, 0.95));
  }
  assert.deepEqual(Object.fromEntries(w.psi()), {
    image_pixels: 0,
    image_long_side: 0,
    line_count: 0,
    prediction: 0,
  });
  const tiny = await page(200, 100);
  for (let i = 0; i < 60; i++) w.observe(tiny, lines(0.6));
  const p = w.psi();
  for (const f of ['image_pixels', 'image_long_side', 'line_count', 'prediction']) {
    assert.ok(p.get(f)! > PSI_ALERT, `${f}: ${p.get(f)}`);
  }
  // A page with no lines counts for the line count but not for the mean confidence.
  w.observe(tiny, lines());
  assert.equal(w.items, 81);
});

test('schemas: spam v1 files still read; v2 kinds and mean_of only under v2; bad bins refused', () => {
  const spam = parseDriftReference(JSON.parse(readFileSync('models/spam/1/drift_reference.json', 'utf8')));
  assert.equal(spam.schema, 'inferd.drift-reference/v1');
  const v2 = { schema: 'inferd.drift-reference/v2', input: 'image' };
  assert.equal(
    parseDriftReference({ ...v2, features: [{ ...lineCount, counts: [1, 1, 1] }] }).input,
    'image',
  );
  for (const bad of [
    { ...v2, schema: 'inferd.drift-reference/v1', features: [{ ...pixels, counts: [1, 1, 1] }] },
    {
      ...v2,
      schema: 'inferd.drift-reference/v1',
      features: [],
      prediction: { ...confidence, counts: [1, 1, 1] },
    },
    {
      ...v2,
      features: [
        { ...pixels, counts: [1, 1, 1] },
        { ...pixels, counts: [1, 1, 1] },
      ],
    },
    { ...v2, features: [{ ...pixels, edges: [10, 5], counts: [1, 1, 1] }] },
    { ...v2, features: [{ ...lineCount, output: undefined, counts: [1, 1, 1] }] },
    { ...v2, features: [{ ...pixels, name: 'prediction', counts: [1, 1, 1] }] },
    { ...v2, features: [{ ...pixels, counts: [1, -1, 1] }] },
  ]) {
    assert.throws(() => parseDriftReference(bad), /drift-reference\/v2/, JSON.stringify(bad));
  }
});
