/**
 * The gate's significance tests on constructed cases whose answers are known in closed form:
 * McNemar's exact p-values from the binomial distribution, and the paired bootstrap on data where
 * the difference is zero or certain.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mcnemar, mcnemarCounts, pairedBootstrap } from '../../src/training/stats/paired-tests.js';

const close = (a: number, b: number, rel = 1e-9): void =>
  assert.ok(Math.abs(a - b) <= rel * Math.max(1, Math.abs(b)), `${a} != ${b}`);

test('McNemar: no discordant pair gives p = 1', () => {
  assert.deepEqual(mcnemarCounts(0, 0), { b: 0, c: 0, pValue: 1, pWorse: 1 });
});

test('McNemar: all 10 discordant pairs against the candidate', () => {
  const r = mcnemarCounts(10, 0);
  close(r.pWorse, 0.5 ** 10);
  close(r.pValue, 2 * 0.5 ** 10);
});

test('McNemar: balanced pairs are not significant', () => {
  const r = mcnemarCounts(5, 5);
  assert.equal(r.pValue, 1);
  close(r.pWorse, 638 / 1024); // P(X >= 5), X ~ Bin(10, 1/2) = (252 + 210 + 120 + 45 + 10 + 1) / 1024
});

test('McNemar: b = 20, c = 5 matches the binomial tail summed by hand', () => {
  // C(25,k) for k = 20..25: 53130, 12650, 2300, 300, 25, 1.
  const tail = (53130 + 12650 + 2300 + 300 + 25 + 1) / 2 ** 25;
  const r = mcnemarCounts(20, 5);
  close(r.pWorse, tail);
  close(r.pValue, 2 * tail);
  // The candidate being better is not "worse": its one-sided p is large.
  assert.ok(mcnemarCounts(5, 20).pWorse > 0.99);
});

test('McNemar: large counts agree with the normal approximation', () => {
  // n = 10,000, b - n/2 = 200 = 4 standard deviations: one-sided tail ≈ 3.2e-5.
  const r = mcnemarCounts(5200, 4800);
  assert.ok(r.pWorse > 2.5e-5 && r.pWorse < 4e-5, String(r.pWorse));
});

test('McNemar from correctness vectors counts only the discordant pairs', () => {
  const cand = [true, false, false, true, false];
  const base = [true, true, true, false, false];
  const r = mcnemar(cand, base);
  assert.equal(r.b, 2);
  assert.equal(r.c, 1);
  assert.throws(() => mcnemar([true], []), RangeError);
});

test('paired bootstrap: identical models give a zero interval; a sure gain excludes zero', () => {
  const n = 400;
  const y = Array.from({ length: n }, (_, i) => i % 2);
  const accuracy = (pred: number[]) => (idx: Uint32Array) => {
    let ok = 0;
    for (const i of idx) ok += pred[i] === y[i] ? 1 : 0;
    return ok / idx.length;
  };
  const same = pairedBootstrap(n, accuracy(y), { seed: 3, resamples: 500 });
  assert.deepEqual([same.difference, same.low, same.high], [0, 0, 0]);

  // The baseline is wrong on every 4th example, the candidate never: the gain is 0.25 ± sampling.
  const worse = y.map((v, i) => (i % 4 === 0 ? 1 - v : v));
  const gain = pairedBootstrap(n, (idx, m) => accuracy(m === 'candidate' ? y : worse)(idx), {
    seed: 3,
    resamples: 500,
  });
  close(gain.difference, 0.25);
  assert.ok(gain.low > 0.18 && gain.high < 0.32, `${gain.low} ${gain.high}`);
  assert.ok(gain.low <= gain.difference && gain.difference <= gain.high);
  // Same seed, same interval.
  const again = pairedBootstrap(n, (idx, m) => accuracy(m === 'candidate' ? y : worse)(idx), {
    seed: 3,
    resamples: 500,
  });
  assert.deepEqual(again, gain);
});
