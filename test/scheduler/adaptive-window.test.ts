/**
 * The scheduler with the adaptive batch window (batch-window.ts) against a fake backend: a lone
 * request is not held for the configured bound (Triton's fixed delay would hold it), and requests
 * that arrive while the instance is busy share executions and get their own rows back.
 * Asserts outcomes and call counts, never timings.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Tensor } from '../../src/core/tensor.js';
import type { Backend } from '../../src/runtime/backend.js';
import { Scheduler, type SchedulerOptions } from '../../src/scheduler/scheduler.js';

/** Echoes its input; each execution waits until the test releases it. */
class HeldBackend implements Backend {
  readonly metadata = {
    platform: 'test',
    inputs: [{ name: 'x', datatype: 'FP32' as const, shape: [-1, 1] }],
    outputs: [{ name: 'x', datatype: 'FP32' as const, shape: [-1, 1] }],
  };
  readonly batches: number[] = [];
  private releases: Array<() => void> = [];
  infer(inputs: Tensor[]): Promise<Tensor[]> {
    this.batches.push(inputs[0]!.shape[0]!);
    return new Promise((resolve) => this.releases.push(() => resolve(inputs)));
  }
  releaseAll(): void {
    const r = this.releases;
    this.releases = [];
    for (const f of r) f();
  }
  get held(): number {
    return this.releases.length;
  }
  async unload(): Promise<void> {}
}

const observer = { pendingChanged() {}, executed() {}, dequeued() {} };
const opts = (over: Partial<SchedulerOptions>): SchedulerOptions => ({
  maxBatchSize: 64,
  batching: true,
  maxQueueDelayMs: 60_000,
  preferredBatchSizes: [],
  maxQueueSize: 1000,
  concurrency: 1,
  retryAfterS: 1,
  ...over,
});
const job = (v: number) => ({
  inputs: [{ name: 'x', datatype: 'FP32' as const, shape: [1, 1], data: new Float32Array([v]) }],
  priority: 0,
});
const turns = async (n: number) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};
/** Execution cost where batching pays: 1 ms fixed, 0.01 ms a row. */
const adaptive = { execMs: (rows: number) => 1 + 0.01 * rows, parallel: 1 };

describe('adaptive batch window', () => {
  it('a lone request runs at once, while the fixed delay holds it for the bound', async () => {
    const fixed = new HeldBackend();
    const f = new Scheduler(fixed, opts({}), observer);
    void f.enqueue(job(1)).catch(() => {});
    await turns(5);
    assert.equal(fixed.batches.length, 0, 'Triton rule: the head waits out max_queue_delay');
    f.close('test over');

    const be = new HeldBackend();
    const s = new Scheduler(be, opts({ adaptive }), observer);
    const p = s.enqueue(job(7));
    await turns(5);
    assert.deepEqual(be.batches, [1], 'no arrival history: waiting cannot pay');
    be.releaseAll();
    const r = await p;
    assert.deepEqual([...(r.outputs[0]!.data as Float32Array)], [7]);
  });

  it('requests queued behind a busy instance share the next execution, each with its own row', async () => {
    const be = new HeldBackend();
    const s = new Scheduler(be, opts({ adaptive }), observer);
    const first = s.enqueue(job(0));
    await turns(2);
    assert.equal(be.held, 1);
    const rest = Array.from({ length: 20 }, (_, i) => s.enqueue(job(i + 1)));
    await turns(2);
    be.releaseAll(); // the first finishes; the 20 queued go out together (at most one window)
    while (be.batches.length < 2) await turns(1);
    be.releaseAll();
    const results = await Promise.all([first, ...rest]);
    results.forEach((r, i) => assert.deepEqual([...(r.outputs[0]!.data as Float32Array)], [i]));
    assert.deepEqual(be.batches, [1, 20]);
  });
});
