/**
 * The ONNX backend's background lane (shadow mirrors): started on first use, it declines while it
 * starts and while it computes, answers as the model does, runs on a SCHED_IDLE thread, and never
 * touches the instances real requests use.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { Tensor } from '../../src/core/tensor.js';
import { affineModel, loadOnnxBackend } from '../helpers/onnx-backend.js';

const rows = (n: number): Tensor => ({
  name: 'x',
  datatype: 'FP32',
  shape: [n, 4],
  data: Float32Array.from({ length: n * 4 }, (_, i) => i),
});

/** Threads of this process whose scheduling policy is SCHED_IDLE (5), from /proc (Linux only). */
function idleThreads(): number {
  let n = 0;
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      if (/^policy\s*:\s*5$/m.test(readFileSync(`/proc/self/task/${tid}/sched`, 'utf8'))) n++;
    } catch {
      // the thread ended while we looked
    }
  }
  return n;
}

test('background lane: cold start declines, then runs mirrors at idle priority, one at a time', async (t) => {
  // y = 3x − 1 over FP32 [N, 4].
  const backend = await loadOnnxBackend('affine', affineModel(3, -1), {
    max_batch_size: 8,
    instance_group: [{ count: 1 }],
    onnxruntime: { intra_op_num_threads: 2, pipeline_depth: 1 },
  });
  t.after(() => backend.unload());
  assert.ok(backend.background, 'the ONNX backend has a background lane');
  const linux = process.platform === 'linux';
  const idleBefore = linux ? idleThreads() : 0;

  assert.equal(backend.background([rows(2)]), undefined, 'a cold lane declines and starts');
  let run: Promise<Tensor[]> | undefined;
  for (let i = 0; i < 400 && !run; i++) {
    await new Promise((r) => setTimeout(r, 25));
    run = backend.background([rows(2)]);
  }
  assert.ok(run, 'the lane came up within 10 s');
  assert.equal(backend.background([rows(1)]), undefined, 'busy: a second mirror is declined, not queued');
  const [y] = await run;
  assert.deepEqual([...(y!.data as Float32Array)], [-1, 2, 5, 8, 11, 14, 17, 20]);
  assert.deepEqual(backend.placements, { worker: 0, inline: 0 }, 'no real instance ran it');

  // Same answer as the real path.
  const [real] = await backend.infer([rows(2)]);
  assert.deepEqual([...(real!.data as Float32Array)], [...(y!.data as Float32Array)]);

  if (linux) assert.ok(idleThreads() > idleBefore, 'the lane computes on a SCHED_IDLE thread');

  // Free again once the answer is back; a wrong input is a clear error, not a crash.
  const bad = backend.background([{ name: 'x', datatype: 'FP32', shape: [1, 3], data: new Float32Array(3) }]);
  assert.ok(bad);
  await assert.rejects(bad, /x|shape|dimension/i);
});
