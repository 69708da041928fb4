/**
 * Dispatch coalescing (bench/results/scheduler-*.md): with dynamic batching, requests enqueued in the
 * same event-loop turn join one execution even when an instance is idle and the queue delay is 0;
 * without batching each request still runs alone and is dispatched at once. After a streak of lone
 * requests (one client at a time) an idle model takes the next one at once, until company comes.
 * Uses an in-memory backend; asserts execution counts, never timings.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Tensor } from '../../src/core/tensor.js';
import type { Backend } from '../../src/runtime/backend.js';
import { parseModelConfig } from '../../src/core/model-config.js';
import { queueBound } from '../../src/repository/model-manager.js';
import { Scheduler, type SchedulerOptions } from '../../src/scheduler/scheduler.js';

/** Echoes its input; records the batch size of every execution. */
function echoBackend(): { backend: Backend; batches: number[] } {
  const batches: number[] = [];
  const backend: Backend = {
    metadata: {
      platform: 'test',
      inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 1] }],
      outputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 1] }],
    },
    async infer(inputs: Tensor[]): Promise<Tensor[]> {
      batches.push(inputs[0]!.shape[0]!);
      await new Promise((r) => setTimeout(r, 1));
      return inputs;
    },
    async unload() {},
  };
  return { backend, batches };
}

const observer = { pendingChanged() {}, executed() {}, dequeued() {} };
const options = (o: Partial<SchedulerOptions>): SchedulerOptions => ({
  maxBatchSize: 8,
  batching: true,
  maxQueueDelayMs: 0,
  preferredBatchSizes: [],
  maxQueueSize: 100,
  concurrency: 1,
  retryAfterS: 1,
  ...o,
});
const job = (v: number) => ({
  inputs: [{ name: 'x', datatype: 'FP32' as const, shape: [1, 1], data: new Float32Array([v]) }],
  priority: 1,
});

describe('scheduler dispatch', () => {
  it('batches requests enqueued in one turn into one execution, each gets its own row back', async () => {
    const { backend, batches } = echoBackend();
    const s = new Scheduler(backend, options({}), observer);
    const results = await Promise.all([1, 2, 3, 4, 5].map((v) => s.enqueue(job(v))));
    assert.deepEqual(batches, [5]);
    assert.deepEqual(
      results.map((r) => Array.from(r.outputs[0]!.data as Float32Array)),
      [[1], [2], [3], [4], [5]],
    );
    assert.ok(results.every((r) => r.batchRows === 5));
  });

  it('splits a turn larger than max_batch_size into full batches', async () => {
    const { backend, batches } = echoBackend();
    const s = new Scheduler(backend, options({ maxBatchSize: 4 }), observer);
    await Promise.all(Array.from({ length: 10 }, (_, i) => s.enqueue(job(i))));
    assert.deepEqual(batches, [4, 4, 2]);
  });

  it('requests that idle instances take at once do not count against max_queue_size', async () => {
    const { backend, batches } = echoBackend();
    const s = new Scheduler(backend, options({ maxBatchSize: 1, maxQueueSize: 1, concurrency: 2 }), observer);
    // Same turn: two start on the two idle instances, one waits, the fourth finds the queue full.
    const settled = await Promise.allSettled([1, 2, 3, 4].map((v) => s.enqueue(job(v))));
    assert.deepEqual(
      settled.map((r) => (r.status === 'fulfilled' ? 'ok' : (r.reason as { code: string }).code)),
      ['ok', 'ok', 'ok', 'queue_full'],
    );
    assert.deepEqual(batches, [1, 1, 1]);
  });

  it('requests waiting out the queue delay count against max_queue_size, as in Triton', async () => {
    const { backend, batches } = echoBackend();
    const s = new Scheduler(
      backend,
      options({ maxBatchSize: 8, maxQueueDelayMs: 20, maxQueueSize: 2 }),
      observer,
    );
    // The idle instance waits 20 ms for its batch: the queue holds the first two, the rest are refused.
    const settled = await Promise.allSettled([1, 2, 3, 4].map((v) => s.enqueue(job(v))));
    assert.deepEqual(
      settled.map((r) => (r.status === 'fulfilled' ? 'ok' : (r.reason as { code: string }).code)),
      ['ok', 'ok', 'queue_full', 'queue_full'],
    );
    assert.deepEqual(batches, [2]);
  });

  it('without batching a free instance takes one request at once, whatever max_batch_size', async () => {
    const { backend, batches } = echoBackend();
    const s = new Scheduler(
      backend,
      options({ batching: false, maxBatchSize: 8, maxQueueSize: 1 }),
      observer,
    );
    const settled = await Promise.allSettled([1, 2, 3].map((v) => s.enqueue(job(v))));
    assert.deepEqual(
      settled.map((r) => (r.status === 'fulfilled' ? 'ok' : (r.reason as { code: string }).code)),
      ['ok', 'ok', 'queue_full'],
    );
    assert.deepEqual(batches, [1, 1]);
  });

  it('shares a turn out among free execution slots, one after another, unless sizes are preferred', async () => {
    const spread = echoBackend();
    const two = new Scheduler(spread.backend, options({ maxBatchSize: 8, concurrency: 2 }), observer);
    const results = await Promise.all([1, 2, 3, 4, 5, 6, 7].map((v) => two.enqueue(job(v))));
    assert.deepEqual(spread.batches, [4, 3]);
    assert.deepEqual(
      results.map((r) => Array.from(r.outputs[0]!.data as Float32Array)),
      [[1], [2], [3], [4], [5], [6], [7]],
    );

    // One slot taken (its execution held until released): the next turn finds one free.
    const busy = echoBackend();
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const echo = busy.backend.infer.bind(busy.backend);
    busy.backend.infer = async (inputs, names) => {
      const out = echo(inputs, names);
      if (busy.batches.length === 1) await held;
      return out;
    };
    const s = new Scheduler(busy.backend, options({ maxBatchSize: 8, concurrency: 2 }), observer);
    const first = s.enqueue(job(0));
    await new Promise((r) => setImmediate(r));
    const rest = Promise.all([1, 2, 3, 4, 5, 6].map((v) => s.enqueue(job(v))));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(busy.batches, [1, 6]);
    release();
    await Promise.all([first, rest]);

    // A full batch goes at once; its second share does not then wait out the queue delay.
    const delayed = echoBackend();
    const d = new Scheduler(
      delayed.backend,
      options({ maxBatchSize: 8, concurrency: 2, maxQueueDelayMs: 60_000 }),
      observer,
    );
    const all = Promise.all([1, 2, 3, 4, 5, 6, 7, 8].map((v) => d.enqueue(job(v))));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(delayed.batches, [4, 4]);
    await all;

    const preferred = echoBackend();
    const p = new Scheduler(
      preferred.backend,
      options({ maxBatchSize: 8, concurrency: 2, preferredBatchSizes: [6] }),
      observer,
    );
    await Promise.all([1, 2, 3, 4, 5, 6].map((v) => p.enqueue(job(v))));
    assert.deepEqual(preferred.batches, [6]);
  });

  it('max_queue_size 0 means no bound, as in Triton; unset means the bounded default', async () => {
    const bound = (db: Record<string, unknown> | undefined, concurrency = 1) =>
      queueBound(parseModelConfig({ max_batch_size: 8, dynamic_batching: db }, 'm'), concurrency);
    assert.equal(bound({ max_queue_size: 0 }), Number.POSITIVE_INFINITY);
    assert.equal(bound({ max_queue_size: 3 }), 3);
    assert.equal(bound({}), 64);
    assert.equal(bound(undefined, 4), 128); // 4 × max_batch_size × instances
    assert.throws(() => bound({ max_queue_size: -1 }), /max_queue_size/);

    const { backend, batches } = echoBackend();
    const s = new Scheduler(
      backend,
      options({ maxBatchSize: 1, maxQueueSize: Number.POSITIVE_INFINITY }),
      observer,
    );
    const n = 500;
    const settled = await Promise.allSettled(Array.from({ length: n }, (_, i) => s.enqueue(job(i))));
    assert.equal(settled.filter((r) => r.status === 'fulfilled').length, n);
    assert.equal(batches.length, n);
  });

  it('without dynamic batching, each request runs alone', async () => {
    const { backend, batches } = echoBackend();
    const s = new Scheduler(backend, options({ batching: false }), observer);
    await Promise.all([1, 2, 3].map((v) => s.enqueue(job(v))));
    assert.deepEqual(batches, [1, 1, 1]);
  });
});

describe('scheduler dispatch after lone requests', () => {
  it('after 8 lone executions an idle model runs the next request at once; company ends it', async () => {
    const { backend, batches } = echoBackend();
    const s = new Scheduler(backend, options({}), observer);
    // One client, one request at a time: each waits a turn first (the streak is being counted).
    for (let i = 0; i < 8; i++) {
      const p = s.enqueue(job(i));
      assert.equal(batches.length, i, `request ${i} waited for the end of its turn`);
      await p;
    }
    // The ninth goes at once: the backend has it before enqueue returns.
    const ninth = s.enqueue(job(8));
    assert.equal(batches.length, 9);
    await ninth;
    // Two in one turn: the first still goes at once, the second found company and waits its turn;
    // the streak is over, so the next three in one turn are one batch again.
    const pair = [s.enqueue(job(9)), s.enqueue(job(10))];
    assert.equal(batches.length, 10);
    await Promise.all(pair);
    await Promise.all([11, 12, 13].map((v) => s.enqueue(job(v))));
    assert.deepEqual(batches.slice(9), [1, 1, 3]);
  });

  it('a streak never skips the turn while another request is queued or executing', async () => {
    const { backend, batches } = echoBackend();
    const s = new Scheduler(backend, options({ concurrency: 2 }), observer);
    for (let i = 0; i < 10; i++) await s.enqueue(job(i));
    const first = s.enqueue(job(10)); // at once: lone and idle
    const second = s.enqueue(job(11)); // company: waits for the end of the turn
    assert.equal(batches.length, 11);
    await Promise.all([first, second]);
    assert.equal(batches.length, 12);
  });
});

describe('scheduler cancellation by a shared signal', () => {
  it('an abort removes only that signal’s queued requests, in every scheduler that holds some', async () => {
    // One signal per HTTP connection (client-gone.ts): many requests, over time and across models.
    const a = echoBackend();
    const b = echoBackend();
    const sa = new Scheduler(a.backend, options({ maxBatchSize: 1 }), observer);
    const sb = new Scheduler(b.backend, options({ maxBatchSize: 1 }), observer);
    const conn = new AbortController();
    const other = new AbortController();
    const withSignal = (v: number, signal: AbortSignal) => ({ ...job(v), signal });
    // Requests that settled before the abort leave nothing behind to cancel.
    for (let i = 0; i < 50; i++) await sa.enqueue(withSignal(i, conn.signal));
    a.batches.length = 0;
    const first = sa.enqueue(withSignal(100, conn.signal)); // executes at once (concurrency 1)
    const queuedA = sa.enqueue(withSignal(101, conn.signal)).catch((e: unknown) => e);
    const kept = sa.enqueue(withSignal(102, other.signal));
    const runningB = sb.enqueue(withSignal(200, conn.signal)); // executes at once
    const queuedB = sb.enqueue(withSignal(201, conn.signal)).catch((e: unknown) => e);
    await new Promise((r) => setImmediate(r));
    conn.abort();
    assert.equal(Array.from((await first).outputs[0]!.data as Float32Array)[0], 100);
    assert.equal(((await queuedA) as { code?: string }).code, 'canceled');
    assert.equal(Array.from((await kept).outputs[0]!.data as Float32Array)[0], 102);
    assert.equal(((await queuedB) as { code?: string }).code, 'canceled');
    assert.equal(Array.from((await runningB).outputs[0]!.data as Float32Array)[0], 200);
    assert.deepEqual(a.batches, [1, 1], 'the canceled request was never computed');
    assert.deepEqual(b.batches, [1]);
  });
});
