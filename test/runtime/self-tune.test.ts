/**
 * Self-tuned defaults end to end: a model dropped into the repository with no config gets
 * batching (dynamic first dimension), calibrated instances/threads/pipelining, an adaptive window,
 * and the reasons in GET /v2/models/{m}/config; explicit settings are kept and not annotated.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../src/server.js';
import { buildModel } from '../../src/training/graph-builder.js';
import { addModel, upperModel, writeModel } from '../fixtures/repository.js';
import { adminHeaders, startTestServer } from '../helpers/server.js';

/** y = 2x + b over FP32 [N, 4] (the "model dropped into the folder"). */
function affineModel(firstDim: string | number): Uint8Array {
  return buildModel({
    inputs: [{ name: 'x', type: 'FLOAT', shape: [firstDim, 4] }],
    outputs: [{ name: 'y', type: 'FLOAT', shape: [firstDim, 4] }],
    initializers: [
      { name: 'two', type: 'FLOAT', dims: [], values: [2] },
      { name: 'b', type: 'FLOAT', dims: [4], values: [1, 2, 3, 4] },
    ],
    nodes: [
      { op: 'Mul', inputs: ['x', 'two'], outputs: ['x2'] },
      { op: 'Add', inputs: ['x2', 'b'], outputs: ['y'] },
    ],
  });
}

/** y = 2x over FP32 [N, W]: both dimensions dynamic, like an image model's height and width. */
function scaleModel(): Uint8Array {
  return buildModel({
    inputs: [{ name: 'x', type: 'FLOAT', shape: ['N', 'W'] }],
    outputs: [{ name: 'y', type: 'FLOAT', shape: ['N', 'W'] }],
    initializers: [{ name: 'two', type: 'FLOAT', dims: [], values: [2] }],
    nodes: [{ op: 'Mul', inputs: ['x', 'two'], outputs: ['y'] }],
  });
}

const warmup = (dims: number[]): object => [
  { name: 'wide rows', batch_size: 1, inputs: { x: { data_type: 'TYPE_FP32', dims, zero_data: true } } },
];

type Config = {
  max_batch_size: number;
  instance_group?: Array<{ count: number }>;
  dynamic_batching?: { max_queue_delay_microseconds: number };
  parameters?: Record<string, { string_value: string }>;
};

describe('self-tuned defaults', () => {
  let server: RunningServer;
  const config = async (m: string): Promise<Config> => {
    const r = await fetch(`${server.httpUrl}/v2/models/${m}/config`, { headers: adminHeaders() });
    assert.equal(r.status, 200);
    return (await r.json()) as Config;
  };

  before(async () => {
    const root = mkdtempSync(join(tmpdir(), 'inferd-selftune-'));
    writeModel(root, 'affine', 1, affineModel('N'));
    writeModel(root, 'fixed', 1, affineModel(1));
    writeModel(root, 'explicit', 1, addModel(), {
      max_batch_size: 8,
      dynamic_batching: { max_queue_delay_microseconds: 0 },
      instance_group: [{ count: 1 }],
      onnxruntime: { intra_op_num_threads: 1, pipeline_depth: 1 },
    });
    writeModel(root, 'wide', 1, scaleModel(), { max_batch_size: 8, model_warmup: warmup([4096]) });
    writeModel(root, 'wide_unbatched', 1, scaleModel(), {
      max_batch_size: 0,
      model_warmup: warmup([2, 4096]),
    });
    // max_batch_size left to the self-tuner: the sample is written without the batch dimension.
    writeModel(root, 'wide_tuned', 1, scaleModel(), { model_warmup: warmup([4096]) });
    // A BYTES sample read from warmup/<file> (Triton's layout: a 4-byte little-endian length, then the bytes).
    writeModel(root, 'upper', 1, upperModel(), {
      max_batch_size: 8,
      model_warmup: [
        {
          name: 'a message',
          batch_size: 1,
          inputs: { text: { data_type: 'TYPE_STRING', dims: [], input_data_file: 'msg' } },
        },
      ],
    });
    const msg = Buffer.from('Claim your free prize now');
    const framed = Buffer.alloc(4 + msg.length);
    framed.writeUInt32LE(msg.length, 0);
    msg.copy(framed, 4);
    mkdirSync(join(root, 'upper', 'warmup'));
    writeFileSync(join(root, 'upper', 'warmup', 'msg'), framed);
    server = await startTestServer(root);
  });
  after(async () => server.close());

  it('a model with no config and a dynamic first dimension batches, with calibrated settings and reasons', async () => {
    const cfg = await config('affine');
    // A trivial graph: the largest calibrated batch runs far below the 2 ms budget.
    assert.equal(cfg.max_batch_size, 64);
    assert.ok(cfg.dynamic_batching, 'dynamic batching on');
    const delay = cfg.dynamic_batching.max_queue_delay_microseconds;
    assert.ok(delay >= 50 && delay <= 1000, `adaptive window bound ${delay} µs`);
    assert.equal(cfg.instance_group?.[0]?.count, 1);
    const p = cfg.parameters ?? {};
    assert.equal(p['inferd.intra_op_num_threads']?.string_value, '1');
    // A trivial graph runs inline on the event loop: no hand-off to pipeline.
    assert.equal(p['inferd.execution']?.string_value, 'inline');
    assert.equal(p['inferd.pipeline_depth']?.string_value, '1');
    assert.equal(p['inferd.thread_priority']?.string_value, 'normal');
    for (const f of [
      'instance_count',
      'intra_op_num_threads',
      'max_batch_size',
      'pipeline_depth',
      'execution',
      'calibration',
    ])
      assert.ok(p[`inferd.tuning.${f}`]?.string_value, `reason for ${f}: ${JSON.stringify(p)}`);
  });

  it('the tuned model answers concurrent requests correctly, each with its own rows', async () => {
    const answers = await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        const r = await fetch(`${server.httpUrl}/v2/models/affine/infer`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [i, 0, 0, 0] }],
          }),
        });
        assert.equal(r.status, 200);
        return ((await r.json()) as { outputs: Array<{ data: number[] }> }).outputs[0]!.data;
      }),
    );
    answers.forEach((d, i) => assert.deepEqual(d, [2 * i + 1, 2, 3, 4]));
  });

  it('calibration times the model_warmup sample (its row repeated per batch size), else synthetic inputs', async () => {
    const reason = async (m: string): Promise<string> =>
      (await config(m)).parameters?.['inferd.tuning.calibration_input']?.string_value ?? '';
    assert.equal(await reason('wide'), "model_warmup 'wide rows': x [4096]");
    assert.equal(await reason('wide_unbatched'), "model_warmup 'wide rows': x [2,4096]");
    assert.equal(await reason('wide_tuned'), "model_warmup 'wide rows': x [4096]");
    assert.equal(await reason('upper'), "model_warmup 'a message': text []");
    assert.match(await reason('affine'), /^synthetic/);
    // Each batch size ran on the sample's shape: a failed run would leave no curve.
    for (const m of ['wide', 'upper']) {
      const curve = (await config(m)).parameters?.['inferd.tuning.calibration']?.string_value ?? '';
      assert.match(curve, /1:\d+ 2:\d+ 4:\d+ 8:\d+$/, m);
    }
  });

  it('a fixed first dimension: no batching', async () => {
    const cfg = await config('fixed');
    assert.equal(cfg.max_batch_size, 0);
    assert.match(cfg.parameters?.['inferd.tuning.max_batch_size']?.string_value ?? '', /cannot batch/);
  });

  it('explicit settings are kept as they are, with no tuning reasons', async () => {
    const cfg = await config('explicit');
    assert.equal(cfg.max_batch_size, 8);
    assert.equal(cfg.dynamic_batching?.max_queue_delay_microseconds, 0);
    assert.equal(cfg.instance_group?.[0]?.count, 1);
    assert.equal(Object.keys(cfg.parameters ?? {}).filter((k) => k.startsWith('inferd.tuning')).length, 0);
  });
});
