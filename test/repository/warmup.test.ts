/**
 * Warm-up at load (Triton's model_warmup, src/repository/warmup.ts): samples run on every instance
 * before the version serves; a configured warm-up that fails fails the load, the synthetic default
 * only warns; pipelines get no synthetic warm-up and may not configure one.
 * A fake backend records what it is given; one real ONNX model checks the path end to end.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { BytesData, type Tensor } from '../../src/core/tensor.js';
import type { TensorSpec } from '../../src/core/model.js';
import { Metrics } from '../../src/observability/metrics.js';
import { ModelManager } from '../../src/repository/model-manager.js';
import { LocalSource } from '../../src/repository/source/local.js';
import type { BackendFactory } from '../../src/runtime/backend.js';
import type { RunningServer } from '../../src/server.js';
import type { ModelStatistics } from '../../src/core/statistics.js';
import { addModel, writeModel } from '../fixtures/repository.js';
import { adminHeaders, startTestServer } from '../helpers/server.js';

const INPUTS: TensorSpec[] = [
  { name: 'x', datatype: 'FP32', shape: [-1, 3] },
  { name: 't', datatype: 'BYTES', shape: [-1, -1] },
  { name: 'opt', datatype: 'FP32', shape: [-1, 2] },
];

interface Call {
  inputs: Tensor[];
  /** Whether a version of the model served while this warm-up call ran. */
  servedMeanwhile: boolean;
}

/** A repository of one model `m` on the fake backend, its config as JSON or as pbtxt text. */
function setup(
  config: object | string,
  opts: { platform?: string; fail?: boolean; synthetic?: boolean } = {},
) {
  const root = mkdtempSync(join(tmpdir(), 'inferd-warmup-'));
  mkdirSync(join(root, 'm', '1'), { recursive: true });
  mkdirSync(join(root, 'm', 'warmup'));
  writeFileSync(join(root, 'm', 'warmup', 'x.bin'), new Uint8Array(new Float32Array([1, 2, 3]).buffer));
  if (typeof config === 'string') writeFileSync(join(root, 'm', 'config.pbtxt'), config);
  else writeFileSync(join(root, 'm', 'config.json'), JSON.stringify(config));
  const calls: Call[] = [];
  const logs: Array<Record<string, unknown>> = [];
  let unloads = 0;
  const logger = pino(
    { level: 'info' },
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        logs.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        cb();
      },
    }),
  );
  let manager: ModelManager | undefined = undefined;
  const fake: BackendFactory = {
    name: 'fake',
    platform: 'fake',
    load: () =>
      Promise.resolve({
        metadata: {
          platform: opts.platform ?? 'fake',
          inputs: INPUTS,
          outputs: [{ name: 'y', datatype: 'FP32', shape: [-1, 1] }],
        },
        concurrency: 2,
        infer: (inputs: Tensor[]) => {
          calls.push({ inputs, servedMeanwhile: manager!.loadOutcome('m').ready });
          return opts.fail ? Promise.reject(new Error('the model cannot take it')) : Promise.resolve([]);
        },
        unload: () => {
          unloads += 1;
          return Promise.resolve();
        },
      }),
  };
  manager = new ModelManager({
    source: new LocalSource(root),
    backends: [fake],
    metrics: new Metrics(),
    logger,
    invoker: { infer: () => Promise.reject(new Error('no calls')) },
    syntheticWarmup: opts.synthetic ?? true,
  });
  return {
    manager,
    calls,
    logs,
    unloads: () => unloads,
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}

const base = {
  backend: 'fake',
  max_batch_size: 4,
  input: [
    { name: 'x', data_type: 'TYPE_FP32', dims: [3] },
    { name: 't', data_type: 'TYPE_STRING', dims: [-1] },
    { name: 'opt', data_type: 'TYPE_FP32', dims: [2], optional: true },
  ],
};

const texts = (t: Tensor | undefined): readonly string[] => (t!.data as BytesData).toStrings();

describe('warm-up at load', () => {
  it('by default runs one synthetic request on every instance before the version serves', async () => {
    const f = setup(base);
    try {
      await f.manager.loadAll();
      assert.equal(f.manager.loadOutcome('m').ready, true);
      assert.equal(f.calls.length, 2, 'once per instance (concurrency 2)');
      assert.ok(
        f.calls.every((c) => !c.servedMeanwhile),
        'nothing served during warm-up',
      );
      const [x, t, ...rest] = f.calls[0]!.inputs;
      assert.deepEqual([x!.name, x!.shape, [...(x!.data as Float32Array)]], ['x', [1, 3], [0, 0, 0]]);
      assert.deepEqual([t!.name, t!.shape, texts(t)], ['t', [1, 1], ['warm-up']]);
      assert.equal(rest.length, 0, 'optional inputs are left out');
      const line = f.logs.find((l) => l.msg === 'model version warmed up');
      assert.deepEqual([line?.warmup, line?.executions], ['synthetic', 2]);
    } finally {
      f.cleanup();
    }
  });

  it('runs configured samples from config.pbtxt: batch_size rows, count runs, input_data_file and zero_data', async () => {
    const f = setup(`
      backend: "fake"
      max_batch_size: 4
      input [ { name: "x" data_type: TYPE_FP32 dims: [ 3 ] }, { name: "t" data_type: TYPE_STRING dims: [ -1 ] } ]
      model_warmup [
        {
          name: "sample"
          batch_size: 2
          count: 3
          inputs { key: "x" value: { data_type: TYPE_FP32 dims: [ 3 ] input_data_file: "x.bin" } }
          inputs { key: "t" value: { data_type: TYPE_STRING dims: [ 2 ] zero_data: true } }
        }
      ]`);
    try {
      await f.manager.loadAll();
      assert.equal(f.manager.loadOutcome('m').ready, true);
      assert.equal(f.calls.length, 6, '3 runs on 2 instances');
      const byName = new Map(f.calls[0]!.inputs.map((t) => [t.name, t]));
      assert.deepEqual(byName.get('x')!.shape, [2, 3]);
      assert.deepEqual([...(byName.get('x')!.data as Float32Array)], [1, 2, 3, 1, 2, 3]);
      assert.deepEqual(
        [byName.get('t')!.shape, texts(byName.get('t'))],
        [
          [2, 2],
          ['', '', '', ''],
        ],
      );
      // Each call had its own buffers: a backend may transfer them to a worker thread.
      assert.notEqual(f.calls[0]!.inputs[0]!.data, f.calls[1]!.inputs[0]!.data);
      assert.equal(f.logs.find((l) => l.msg === 'model version warmed up')?.warmup, 'configured');
    } finally {
      f.cleanup();
    }
  });

  it('fails the load when a configured sample fails, and releases the backend', async () => {
    const f = setup(
      {
        ...base,
        model_warmup: [
          { name: 'bad', inputs: { x: { data_type: 'TYPE_FP32', dims: [3], zero_data: true } } },
        ],
      },
      { fail: true },
    );
    try {
      await f.manager.loadAll();
      const outcome = f.manager.loadOutcome('m');
      assert.equal(outcome.ready, false);
      assert.match(
        !outcome.ready ? outcome.reason : '',
        /warm-up sample 'bad' failed: the model cannot take it/,
      );
      assert.equal(f.unloads(), 1);
    } finally {
      f.cleanup();
    }
  });

  it('fails the load when a configured sample does not fit the model', async () => {
    const cases: Array<[object, RegExp]> = [
      [{ y: { data_type: 'TYPE_FP32', dims: [3], zero_data: true } }, /has no input 'y'/],
      [{ x: { data_type: 'TYPE_INT32', dims: [3], zero_data: true } }, /input 'x' is FP32/],
      [{ x: { data_type: 'TYPE_FP32', dims: [4], zero_data: true } }, /does not fit the model's/],
      [
        { x: { data_type: 'TYPE_FP32', dims: [3], input_data_file: 'missing.bin' } },
        /warmup\/missing\.bin not found/,
      ],
    ];
    for (const [inputs, reason] of cases) {
      const f = setup({ ...base, model_warmup: [{ name: 's', inputs }] });
      try {
        await f.manager.loadAll();
        const outcome = f.manager.loadOutcome('m');
        assert.match(!outcome.ready ? outcome.reason : 'READY', reason);
        assert.equal(f.calls.length, 0);
      } finally {
        f.cleanup();
      }
    }
  });

  it('refuses a sample with a path or two data sources when the config is read', async () => {
    for (const input of [
      { data_type: 'TYPE_FP32', dims: [3], input_data_file: '../x.bin' },
      { data_type: 'TYPE_FP32', dims: [3], zero_data: true, random_data: true },
    ]) {
      const f = setup({ ...base, model_warmup: [{ name: 's', inputs: { x: input } }] });
      try {
        await f.manager.loadAll();
        const outcome = f.manager.loadOutcome('m');
        assert.match(!outcome.ready ? outcome.reason : 'READY', /model_warmup\.0\.inputs\.x/);
      } finally {
        f.cleanup();
      }
    }
  });

  it('serves when the synthetic warm-up fails, with a warning in the log', async () => {
    const f = setup(base, { fail: true });
    try {
      await f.manager.loadAll();
      assert.equal(f.manager.loadOutcome('m').ready, true);
      const warn = f.logs.find((l) => l.level === 40);
      assert.match(String(warn?.msg), /synthetic warm-up failed/);
      assert.match(String(warn?.reason), /the model cannot take it/);
    } finally {
      f.cleanup();
    }
  });

  it('runs no synthetic warm-up with --synthetic-warmup false, nor for a pipeline', async () => {
    for (const opts of [{ synthetic: false }, { platform: 'pipeline' }]) {
      const f = setup(base, opts);
      try {
        await f.manager.loadAll();
        assert.equal(f.manager.loadOutcome('m').ready, true);
        assert.equal(f.calls.length, 0);
      } finally {
        f.cleanup();
      }
    }
  });

  it('refuses a configured warm-up for a pipeline (its calls may reach models still loading)', async () => {
    const f = setup(
      {
        ...base,
        model_warmup: [{ name: 's', inputs: { x: { data_type: 'TYPE_FP32', dims: [3], zero_data: true } } }],
      },
      { platform: 'pipeline' },
    );
    try {
      await f.manager.loadAll();
      const outcome = f.manager.loadOutcome('m');
      assert.match(!outcome.ready ? outcome.reason : 'READY', /a pipeline cannot have model_warmup/);
    } finally {
      f.cleanup();
    }
  });
});

describe('warm-up of an ONNX model', () => {
  let server: RunningServer;
  let repo: string;
  before(async () => {
    repo = mkdtempSync(join(tmpdir(), 'inferd-warmup-onnx-'));
    const sample = (dims: number[]) => ({
      name: 'zeros',
      batch_size: 2,
      inputs: {
        a: { data_type: 'TYPE_FP32', dims, zero_data: true },
        b: { data_type: 'TYPE_FP32', dims: [4], random_data: true },
      },
    });
    writeModel(repo, 'warm', 1, addModel(), { max_batch_size: 8, model_warmup: [sample([4])] });
    writeModel(repo, 'cold', 1, addModel(), { max_batch_size: 8, model_warmup: [sample([5])] });
    server = await startTestServer(repo);
  });
  after(async () => {
    await server.close();
    rmSync(repo, { recursive: true, force: true });
  });

  it('is READY after its configured warm-up, which is not counted as a request', async () => {
    const res = await fetch(`${server.httpUrl}/v2/models/warm/versions/1/stats`, { headers: adminHeaders() });
    const s = ((await res.json()) as { model_stats: ModelStatistics[] }).model_stats[0]!;
    assert.deepEqual([s.execution_count, s.inference_count, s.inference_stats.success.count], [0, 0, 0]);
    assert.equal((await fetch(`${server.httpUrl}/v2/models/warm/ready`)).status, 200);
  });

  it('is UNAVAILABLE with the reason when its configured warm-up does not fit it', async () => {
    const res = await fetch(`${server.httpUrl}/v2/repository/index`, {
      method: 'POST',
      headers: adminHeaders(),
    });
    const rows = (await res.json()) as Array<{ name: string; state: string; reason: string }>;
    const cold = rows.find((r) => r.name === 'cold');
    assert.equal(cold?.state, 'UNAVAILABLE');
    assert.match(cold?.reason ?? '', /warm-up sample 'zeros' failed: input 'a' shape \[2,5\]/);
  });
});
