/**
 * The adaptive batch window (scheduler/batch-window.ts) under simulated arrival rates: it waits only
 * when the free instances, at the queued batch size, serve rows slower than they arrive, and never
 * longer than the rows take to arrive, one execution, or the configured bound.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ArrivalRate, batchWait, type WindowInput } from '../../src/scheduler/batch-window.js';

/** 0.2 ms fixed + 0.01 ms per row: batching pays a lot. */
const execMs = (rows: number): number => 0.2 + 0.01 * rows;
const base: WindowInput = {
  queuedRows: 1,
  maxBatchSize: 64,
  arrivalPerMs: 0,
  execMs,
  freeSlots: 1,
  waitedMs: 0,
  maxDelayMs: 1,
};

describe('batchWait', () => {
  it('light load (1 row per ms): dispatch at once, waiting would only add latency', () => {
    assert.equal(batchWait({ ...base, arrivalPerMs: 1 }), 0);
  });

  it('no arrival history: dispatch at once', () => {
    assert.equal(batchWait(base), 0);
  });

  it('heavy load (50 rows per ms): wait for the batch that keeps up, bounded by the arrivals', () => {
    const wait = batchWait({ ...base, arrivalPerMs: 50 });
    assert.ok(wait > 0, 'waits');
    // The smallest batch that keeps up: b / (0.2 + 0.01 b) ≥ 50 → b ≥ 20; 19 more rows at 50/ms.
    assert.ok(Math.abs(wait - 19 / 50) < 1e-9, String(wait));
  });

  it('never longer than the bound, minus what the head has waited', () => {
    const left = batchWait({ ...base, arrivalPerMs: 50, maxDelayMs: 0.5, waitedMs: 0.45 });
    assert.ok(Math.abs(left - 0.05) < 1e-9, String(left));
    assert.equal(batchWait({ ...base, arrivalPerMs: 50, maxDelayMs: 0.5, waitedMs: 0.5 }), 0);
  });

  it('never longer than one execution of the target batch', () => {
    // At 200 rows/ms no batch up to 64 keeps up (64 / 0.84 ms = 76/ms): the target is a full batch;
    // 63 rows take 0.315 ms to arrive, its execution 0.84 ms, the bound 10 ms.
    const wait = batchWait({ ...base, arrivalPerMs: 200, maxDelayMs: 10 });
    assert.ok(Math.abs(wait - 63 / 200) < 1e-9, String(wait));
    const slowArrivals = batchWait({
      ...base,
      queuedRows: 1,
      arrivalPerMs: 60,
      maxDelayMs: 10,
      maxBatchSize: 8,
    });
    assert.ok(slowArrivals <= execMs(8) + 1e-9, String(slowArrivals));
  });

  it('a full batch, or a queue that the free instances already keep up with, goes now', () => {
    assert.equal(batchWait({ ...base, queuedRows: 64, arrivalPerMs: 500 }), 0);
    // 30 rows queued: 30 / 0.5 ms = 60 rows/ms served ≥ 50 arriving.
    assert.equal(batchWait({ ...base, queuedRows: 30, arrivalPerMs: 50 }), 0);
  });

  it('two free instances serve twice the rows: the same load needs no wait', () => {
    // One instance at batch 10: 10 / 0.3 = 33/ms < 50 → wait; two: 66/ms ≥ 50 → go.
    assert.ok(batchWait({ ...base, queuedRows: 10, arrivalPerMs: 50 }) > 0);
    assert.equal(batchWait({ ...base, queuedRows: 10, arrivalPerMs: 50, freeSlots: 2 }), 0);
  });
});

describe('ArrivalRate', () => {
  it('tracks a steady rate and forgets it when arrivals stop', () => {
    const r = new ArrivalRate();
    assert.equal(r.perMs(0), 0);
    for (let i = 0; i <= 100; i++) r.record(i * 0.1, 1); // 10 per ms
    assert.ok(Math.abs(r.perMs(10) - 10) < 0.5, String(r.perMs(10)));
    // 50 ms of silence: the gap since the last arrival bounds the mean gap.
    assert.ok(r.perMs(60) <= 1 / 50 + 1e-9, String(r.perMs(60)));
  });

  it('weighs rows: batched requests count as their rows', () => {
    const r = new ArrivalRate(1);
    r.record(0, 4);
    r.record(1, 4);
    assert.equal(r.perMs(1), 4);
  });
});
