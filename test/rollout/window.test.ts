/** The sliding window: counts, error rate and p99 within the 10% bin width; old slices forgotten. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { binOf, binUpperMs, SlidingWindow } from '../../src/service/rollout/window.js';

it('p99 is read within 10% of the true value', () => {
  const w = new SlidingWindow(60_000);
  for (let i = 1; i <= 1000; i++) w.record(1000, true, i / 10); // 0.1 … 100 ms
  const s = w.snapshot(1000);
  assert.equal(s.requests, 1000);
  assert.equal(s.errors, 0);
  assert.ok(s.p99Ms! >= 99 && s.p99Ms! <= 99 * 1.1, `p99 ${s.p99Ms}`);
});

it('errors count in the rate and not in latency', () => {
  const w = new SlidingWindow(10_000);
  for (let i = 0; i < 90; i++) w.record(0, true, 2);
  for (let i = 0; i < 10; i++) w.record(0, false, 5000);
  const s = w.snapshot(0);
  assert.equal(s.errorRate, 0.1);
  assert.ok(s.p99Ms! < 2.3);
});

it('outcomes older than the window are forgotten, slice by slice', () => {
  const w = new SlidingWindow(10_000, 10); // 1 s slices
  w.record(0, false, 1);
  w.record(5_500, true, 1);
  assert.equal(w.snapshot(9_000).requests, 2);
  assert.equal(w.snapshot(10_500).requests, 2); // the slice [0, 1000) still overlaps [500, 10500]
  assert.equal(w.snapshot(11_000).requests, 1); // now it left the window
  assert.equal(w.snapshot(16_000).requests, 0);
  // A slot reused by a later slice starts from zero.
  w.record(20_000, true, 1);
  assert.equal(w.snapshot(20_000).requests, 1);
});

it('bins are monotonic and cover sub-millisecond to minutes', () => {
  assert.equal(binOf(0), 0);
  assert.ok(binOf(1) < binOf(2));
  assert.ok(binUpperMs(binOf(123)) >= 123);
  assert.ok(binUpperMs(binOf(60_000)) >= 60_000);
});
