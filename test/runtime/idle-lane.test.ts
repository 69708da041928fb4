/**
 * The ONNX backend's idle lane (tuning.ts `idle_inline_rows`): while none of the model's
 * executions is in flight, a small execution runs inline on the event loop; anything larger, or
 * arriving while another runs, goes to the worker threads. Answers are the same either way.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Tensor } from '../../src/core/tensor.js';
import type { Backend } from '../../src/runtime/backend.js';
import { affineModel, loadOnnxBackend } from '../helpers/onnx-backend.js';

function load(onnxruntime: Record<string, unknown>): Promise<Backend> {
  return loadOnnxBackend('affine', affineModel(2, 1), {
    max_batch_size: 8,
    instance_group: [{ count: 1 }],
    onnxruntime: { intra_op_num_threads: 1, pipeline_depth: 1, ...onnxruntime },
  });
}

const rowsOf = (n: number, base: number): Tensor => ({
  name: 'x',
  datatype: 'FP32',
  shape: [n, 4],
  data: Float32Array.from({ length: n * 4 }, (_, i) => base + i),
});

async function check(b: Backend, n: number, base: number): Promise<void> {
  const [y] = await b.infer([rowsOf(n, base)]);
  assert.deepEqual(
    Array.from(y!.data as Float32Array),
    Array.from({ length: n * 4 }, (_, i) => 2 * (base + i) + 1),
  );
}

test('idle lane: lone small executions run inline, larger or concurrent ones on workers', async () => {
  const b = await load({ idle_inline_rows: 2 });
  try {
    await check(b, 1, 0);
    await check(b, 2, 10);
    assert.deepEqual({ ...b.placements }, { worker: 0, inline: 2 });
    await check(b, 3, 20); // above idle_inline_rows
    assert.deepEqual({ ...b.placements }, { worker: 1, inline: 2 });
    // Started in one tick (a burst parsed in one turn of the event loop): only the first finds the
    // model idle, and one turn later the others are normally still there, so it joins them on the
    // workers. The worker's replies are drained in one poll phase, so when it answers fast (seen
    // under CI load) the other three can all be done before that turn: then the first runs inline.
    await Promise.all([0, 1, 2, 3].map((i) => check(b, 1, 100 * i)));
    const afterBurst = { worker: 0, inline: 0, ...b.placements };
    assert.equal(afterBurst.worker + afterBurst.inline, 7);
    assert.ok(afterBurst.worker >= 4, `at most one of a burst runs inline: ${JSON.stringify(afterBurst)}`);
    // Alone again: back on the lane.
    await check(b, 1, 7);
    assert.deepEqual({ ...b.placements }, { worker: afterBurst.worker, inline: afterBurst.inline + 1 });
  } finally {
    await b.unload();
  }
});

test('idle_inline_rows 0 keeps every execution on the workers', async () => {
  const b = await load({ idle_inline_rows: 0 });
  try {
    await check(b, 1, 0);
    assert.deepEqual({ ...b.placements }, { worker: 1, inline: 0 });
  } finally {
    await b.unload();
  }
});
