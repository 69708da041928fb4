/**
 * PSI and binning on cases with known answers: identical distributions give 0, a known two-bin
 * shift gives the closed-form value, and the text features bin as documented.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { binOf, featureValue, histogram, histogramOf, psi, PSI_ALERT } from '../../src/core/drift.js';

test('binOf: values up to an edge fall in its bin, the rest above the last edge', () => {
  const edges = [0, 10, 100];
  assert.deepEqual(
    [-1, 0, 1, 10, 11, 100, 101].map((v) => binOf(v, edges)),
    [0, 0, 1, 1, 2, 2, 3],
  );
});

test('PSI: the same distribution is 0; a known shift matches the closed form', () => {
  assert.equal(psi([10, 20, 30], [1, 2, 3]), 0);
  // 50/50 -> 80/20: (0.8-0.5)ln(0.8/0.5) + (0.2-0.5)ln(0.2/0.5) = 0.3 ln 1.6 + 0.3 ln 2.5
  const expected = 0.3 * Math.log(1.6) + 0.3 * Math.log(2.5);
  assert.ok(Math.abs(psi([50, 50], [80, 20]) - expected) < 1e-12);
  assert.ok(psi([50, 50], [80, 20]) > PSI_ALERT, 'an 80/20 shift of a 50/50 feature is significant');
  assert.ok(psi([50, 50], [52, 48]) < 0.01, 'a small wobble is not');
  // An empty live bin is finite.
  assert.ok(Number.isFinite(psi([50, 50], [100, 0])));
  assert.equal(psi([0, 0], [1, 1]), 0);
  assert.throws(() => psi([1], [1, 2]), RangeError);
});

test('text features: length in characters and counted matches', () => {
  const urls = { name: 'urls', kind: 'count' as const, pattern: 'https?://', edges: [0, 1, 3] };
  assert.equal(featureValue(urls, 'see http://a and HTTPS://b'), 2);
  assert.equal(featureValue({ name: 'len', kind: 'length', edges: [] }, 'héllo'), 5);
  assert.deepEqual(
    histogram(urls, ['', 'http://x', 'http://x http://y', 'http://1 http://2 http://3 http://4']),
    [1, 1, 1, 1],
  );
  assert.deepEqual(histogramOf([0.1, 0.5, 0.9], [0.5]), [2, 1]);
});
