/**
 * The self-tuning decisions (runtime/tuning.ts) on measured-looking curves: a trivial graph, an
 * overhead-bound text model, a compute-bound CNN, a model that cannot batch, and a config that
 * sets everything (explicit settings always win).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chooseDefaults, execUs, monotone, type ExecPoint } from '../../src/runtime/tuning.js';

/** t(b) = fixed + perRow·b at b = 1, 2, 4, ..., 64 (µs). */
const linear = (fixed: number, perRow: number, max = 64): ExecPoint[] => {
  const out: ExecPoint[] = [];
  for (let b = 1; b <= max; b *= 2) out.push({ rows: b, us: fixed + perRow * b });
  return out;
};

describe('execUs', () => {
  it('interpolates between points and extrapolates beyond the last two', () => {
    const c = linear(10, 2, 8); // 12, 14, 18, 26
    assert.equal(execUs(c, 1), 12);
    assert.equal(execUs(c, 3), 16);
    assert.equal(execUs(c, 16), 42);
    assert.equal(execUs(c, 0), 12, 'below the first point: the first point');
  });

  it('scales a single unbatched point per row', () => {
    assert.equal(execUs([{ rows: 1, us: 50 }], 3), 150);
  });
});

describe('monotone', () => {
  it('lowers points that contradict a batch curve (cold starts, preemptions), never raises one', () => {
    const noisy = [
      { rows: 4, us: 17 },
      { rows: 1, us: 59 },
      { rows: 2, us: 27 },
      { rows: 8, us: 19 },
    ];
    assert.deepEqual(
      monotone(noisy).map((p) => p.us),
      [17, 17, 17, 19],
    );
    assert.equal(noisy[1]!.us, 59, 'the input is not modified');
    // A preempted large batch: capped at the per-row cost of the smaller ones.
    assert.deepEqual(
      monotone([
        { rows: 16, us: 1000 },
        { rows: 32, us: 1700 },
        { rows: 64, us: 32000 },
      ]).map((p) => p.us),
      [1000, 1700, 3400],
    );
  });
});

describe('chooseDefaults', () => {
  it('a trivial graph on 2 CPUs: inline on the event loop, one thread, batch 64, a short window', () => {
    const t = chooseDefaults({ quota: 2, curve: linear(8, 0.05), canBatch: true, explicit: {} });
    assert.equal(t.inline, true, t.reasons.execution);
    assert.equal(t.instances, 1, t.reasons.instance_count);
    assert.equal(t.threads, 1);
    assert.equal(t.maxBatchSize, 64);
    assert.equal(t.pipelineDepth, 1);
    assert.ok(t.maxQueueDelayUs >= 50 && t.maxQueueDelayUs <= 1000, String(t.maxQueueDelayUs));
    for (const f of [
      'instance_count',
      'intra_op_num_threads',
      'max_batch_size',
      'pipeline_depth',
      'execution',
    ])
      assert.ok(t.reasons[f] && t.reasons[f] !== 'config', f);
  });

  it('a small model above the inline bound (spam-like, 50 µs a row): worker threads, pipelined', () => {
    const t = chooseDefaults({ quota: 2, curve: linear(60, 48), canBatch: true, explicit: { instances: 1 } });
    assert.equal(t.inline, false, t.reasons.execution);
    assert.equal(t.threads, 1);
    assert.equal(t.pipelineDepth, 2, t.reasons.pipeline_depth);
    // Without the config's instance count: a row's 48 µs is over half the event loop's ~90 µs.
    const free = chooseDefaults({ quota: 2, curve: linear(60, 48), canBatch: true, explicit: {} });
    assert.equal(free.instances, 2, free.reasons.instance_count);
  });

  it('rows that cost little beside the event loop run inline even when a full batch is longer', () => {
    // Spam-like after the sparse head: 154 µs for 1 row, 406 µs for 64 (6.3 µs a row, under 10%
    // of the event loop's ~90 µs per request).
    const curve = [1, 2, 4, 8, 16, 32, 64].map((rows) => ({ rows, us: 150 + 4 * rows }));
    const t = chooseDefaults({ quota: 2, curve, canBatch: true, explicit: {} });
    assert.equal(t.inline, true, t.reasons.execution);
    assert.equal(t.maxBatchSize, 64);
    assert.match(t.reasons.execution!, /µs a row, under 10%/);
    assert.equal(t.idleInlineRows, 0, t.reasons.idle_inline);
    // The same rows in a batch that would hold the event loop over 1 ms: worker threads.
    const long = [1, 2, 4, 8, 16, 32, 64].map((rows) => ({ rows, us: 900 + 4 * rows }));
    assert.equal(chooseDefaults({ quota: 2, curve: long, canBatch: true, explicit: {} }).inline, false);
  });

  it('worker execution with short lone runs: small executions go inline while the model is idle', () => {
    // 112 µs for 1 row, 868 µs for 64: 13.6 µs a row, over 10% of the event loop's ~90 µs.
    const curve = [1, 2, 4, 8, 16, 32, 64].map((rows) => ({ rows, us: 100 + 12 * rows }));
    const t = chooseDefaults({ quota: 2, curve, canBatch: true, explicit: {} });
    assert.equal(t.inline, false, t.reasons.execution);
    // 100 + 12·8 = 196 µs fits the 200 µs bound; 16 rows (292 µs) does not.
    assert.equal(t.idleInlineRows, 8, t.reasons.idle_inline);
    assert.match(t.reasons.idle_inline!, /^up to 8 row/);
    // A lone row above the bound, an explicit placement, or all-inline: no idle lane.
    const slow = chooseDefaults({ quota: 2, curve: linear(300, 4), canBatch: true, explicit: {} });
    assert.equal(slow.idleInlineRows, 0, slow.reasons.idle_inline);
    const pinned = chooseDefaults({ quota: 2, curve, canBatch: true, explicit: { execution: 'worker' } });
    assert.equal(pinned.idleInlineRows, 0);
    assert.match(pinned.reasons.idle_inline!, /config sets/);
    const inline = chooseDefaults({ quota: 2, curve: linear(8, 0.05), canBatch: true, explicit: {} });
    assert.equal(inline.idleInlineRows, 0);
    // A model that cannot batch: each execution is one request.
    const single = chooseDefaults({ quota: 2, curve: [{ rows: 1, us: 150 }], canBatch: false, explicit: {} });
    assert.equal(single.inline, false);
    assert.equal(single.idleInlineRows, 1, single.reasons.idle_inline);
  });

  it('a trivial graph with a configured instance count stays on worker threads', () => {
    const t = chooseDefaults({
      quota: 2,
      curve: linear(8, 0.05),
      canBatch: true,
      explicit: { instances: 1 },
    });
    assert.equal(t.inline, false);
    assert.equal(t.pipelineDepth, 2);
  });

  it('rows that cost more compute than the event loop spends on a request get a second instance', () => {
    // 200 µs per row even in large batches: one instance cannot keep up with ~90 µs of event loop.
    const t = chooseDefaults({ quota: 2, curve: linear(100, 200, 4), canBatch: true, explicit: {} });
    assert.equal(t.threads, 1);
    assert.equal(t.instances, 2, t.reasons.instance_count);
    // ...but never more single-threaded instances than CPUs.
    const one = chooseDefaults({ quota: 1, curve: linear(100, 200, 4), canBatch: true, explicit: {} });
    assert.equal(one.instances, 1);
  });

  it('a compute-bound model: one instance using every CPU, a small batch, no pipelining', () => {
    const t = chooseDefaults({ quota: 4, curve: linear(500, 3000, 16), canBatch: true, explicit: {} });
    assert.equal(t.instances, 1);
    assert.equal(t.threads, 4);
    // 2 × t(1) = 7 ms budget: batch 2 (6.5 ms) fits, 4 (12.5 ms) does not.
    assert.equal(t.maxBatchSize, 2, t.reasons.max_batch_size);
    assert.equal(t.pipelineDepth, 1);
  });

  it('a model without a dynamic first dimension gets no batching and no window', () => {
    const t = chooseDefaults({ quota: 2, curve: [{ rows: 1, us: 30 }], canBatch: false, explicit: {} });
    assert.equal(t.maxBatchSize, 0);
    assert.equal(t.maxQueueDelayUs, 0);
    assert.match(t.reasons.max_batch_size!, /cannot batch/);
  });

  it('explicit settings always win, and say so', () => {
    const t = chooseDefaults({
      quota: 8,
      curve: linear(8, 0.05),
      canBatch: true,
      explicit: { instances: 3, threads: 2, maxBatchSize: 16, pipelineDepth: 1, execution: 'worker' },
    });
    assert.deepEqual(
      [t.instances, t.threads, t.maxBatchSize, t.pipelineDepth, t.inline],
      [3, 2, 16, 1, false],
    );
    for (const f of [
      'instance_count',
      'intra_op_num_threads',
      'max_batch_size',
      'pipeline_depth',
      'execution',
    ])
      assert.equal(t.reasons[f], 'config', f);
  });

  it('an explicit instance count sizes the threads of a compute-bound model to the quota', () => {
    const t = chooseDefaults({
      quota: 8,
      curve: linear(500, 3000, 4),
      canBatch: true,
      explicit: { instances: 2 },
    });
    assert.equal(t.threads, 4);
  });
});
