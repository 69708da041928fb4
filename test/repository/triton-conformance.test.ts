/**
 * A Triton model repository (batching, instance groups, version policy, label file, parameters,
 * an ensemble, and a model with no config at all) served once with config.pbtxt files and once with
 * the equivalent config.json files: both must serve the same behaviour and report the same
 * configs, in Triton's JSON shape, over REST and gRPC.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { loadProtos } from '../../src/protocol/grpc/proto-files.js';
import type { RunningServer } from '../../src/server.js';
import { addModel, writeModel } from '../fixtures/repository.js';
import { rawCall } from '../protocol/grpc-helpers.js';
import { startTestServer } from '../helpers/server.js';

const SIMPLE_PBTXT = `
# Triton's own layout: two versions, both served
name: "simple"
platform: "onnxruntime_onnx"
max_batch_size: 8
version_policy: { all { } }
input [
  { name: "a", data_type: TYPE_FP32, dims: [ 4 ] },
  { name: "b", data_type: TYPE_FP32, dims: [ 4 ] }
]
output [
  { name: "sum" data_type: TYPE_FP32 dims: [ 4 ] label_filename: "labels.txt" },
  { name: "diff" data_type: TYPE_FP32 dims: [ 4 ] }
]
instance_group [ { count: 2, kind: KIND_CPU } ]
dynamic_batching {
  preferred_batch_size: [ 4 ]
  max_queue_delay_microseconds: 500
  default_queue_policy { max_queue_size: 32 }
}
parameters { key: "owner" value: { string_value: "search-team" } }
`;

const SIMPLE_JSON = {
  name: 'simple',
  platform: 'onnxruntime_onnx',
  max_batch_size: 8,
  version_policy: { all: {} },
  input: [
    { name: 'a', data_type: 'TYPE_FP32', dims: [4] },
    { name: 'b', data_type: 'TYPE_FP32', dims: [4] },
  ],
  output: [
    { name: 'sum', data_type: 'TYPE_FP32', dims: [4], label_filename: 'labels.txt' },
    { name: 'diff', data_type: 'TYPE_FP32', dims: [4] },
  ],
  instance_group: [{ count: 2, kind: 'KIND_CPU' }],
  dynamic_batching: {
    preferred_batch_size: [4],
    max_queue_delay_microseconds: 500,
    default_queue_policy: { max_queue_size: 32 },
  },
  parameters: { owner: { string_value: 'search-team' } },
};

// Steps written out of order (Triton runs them as inputs become ready); "d" is read by the second
// step and is also an ensemble output.
const ENSEMBLE_PBTXT = `
name: "chain"
platform: "ensemble"
max_batch_size: 8
input [ { name: "X" data_type: TYPE_FP32 dims: [ 4 ] }, { name: "Y" data_type: TYPE_FP32 dims: [ 4 ] } ]
output [ { name: "TWICE" data_type: TYPE_FP32 dims: [ 4 ] }, { name: "D" data_type: TYPE_FP32 dims: [ 4 ] } ]
ensemble_scheduling {
  step [
    {
      model_name: "simple"
      model_version: 1
      input_map { key: "a" value: "s" }
      input_map { key: "b" value: "D" }
      output_map { key: "sum" value: "TWICE" }
    },
    {
      model_name: "simple"
      model_version: -1
      input_map [ { key: "a" value: "X" }, { key: "b" value: "Y" } ]
      output_map { key: "sum" value: "s" }
      output_map { key: "diff" value: "D" }
    }
  ]
}
`;

const ENSEMBLE_JSON = {
  name: 'chain',
  platform: 'ensemble',
  max_batch_size: 8,
  input: [
    { name: 'X', data_type: 'TYPE_FP32', dims: [4] },
    { name: 'Y', data_type: 'TYPE_FP32', dims: [4] },
  ],
  output: [
    { name: 'TWICE', data_type: 'TYPE_FP32', dims: [4] },
    { name: 'D', data_type: 'TYPE_FP32', dims: [4] },
  ],
  ensemble_scheduling: {
    step: [
      { model_name: 'simple', model_version: 1, input_map: { a: 's', b: 'D' }, output_map: { sum: 'TWICE' } },
      {
        model_name: 'simple',
        model_version: -1,
        input_map: { a: 'X', b: 'Y' },
        output_map: { sum: 's', diff: 'D' },
      },
    ],
  },
};

function makeRepository(form: 'pbtxt' | 'json'): string {
  const root = mkdtempSync(join(tmpdir(), `inferd-triton-${form}-`));
  writeModel(root, 'simple', 1, addModel(0));
  writeModel(root, 'simple', 2, addModel(10));
  writeFileSync(join(root, 'simple', 'labels.txt'), 'w\nx\ny\nz\n');
  writeModel(root, 'auto', 1, addModel(0));
  writeModel(root, 'chain', 1, new Uint8Array());
  rmSync(join(root, 'chain', '1', 'model.onnx'));
  const files: Record<string, string> =
    form === 'pbtxt'
      ? { simple: SIMPLE_PBTXT, chain: ENSEMBLE_PBTXT }
      : { simple: JSON.stringify(SIMPLE_JSON), chain: JSON.stringify(ENSEMBLE_JSON) };
  for (const [model, text] of Object.entries(files)) {
    writeFileSync(join(root, model, form === 'pbtxt' ? 'config.pbtxt' : 'config.json'), text);
  }
  return root;
}

const A = [1, 2, 3, 4];
const B = [10, 20, 30, 40];

/** What a client sees of one server: configs, readiness, answers and refusals. */
async function observe(server: RunningServer): Promise<Record<string, unknown>> {
  const url = server.httpUrl;
  const get = async (path: string) => {
    const res = await fetch(`${url}${path}`);
    const body = res.status === 200 ? ((await res.json()) as Record<string, unknown>) : await res.text();
    // inferd's self-tuning parameters (measured at load, so never equal across two servers) are
    // inferd's own; runtime/self-tune.test.ts checks them. Triton's fields are compared here.
    if (typeof body === 'object' && body.parameters) {
      body.parameters = Object.fromEntries(
        Object.entries(body.parameters as Record<string, unknown>).filter(([k]) => !k.startsWith('inferd.')),
      );
    }
    return { status: res.status, body };
  };
  const infer = async (model: string, inputs: Record<string, number[]>, rows = 1, version?: string) => {
    const res = await fetch(`${url}/v2/models/${model}${version ? `/versions/${version}` : ''}/infer`, {
      method: 'POST',
      body: JSON.stringify({
        inputs: Object.entries(inputs).map(([name, data]) => ({
          name,
          datatype: 'FP32',
          shape: [rows, 4],
          data: Array.from({ length: rows }, () => data).flat(),
        })),
      }),
    });
    const body = (await res.json()) as { outputs?: Array<{ name: string; data: number[] }>; code?: string };
    return {
      status: res.status,
      code: body.code,
      outputs: Object.fromEntries((body.outputs ?? []).map((o) => [o.name, o.data.slice(0, 4)])),
    };
  };
  const client = new (loadProtos().inference)(server.grpcUrl, grpc.credentials.createInsecure());
  try {
    const grpcConfig = await rawCall<{ config: Record<string, unknown> }>(client, 'ModelConfig', {
      name: 'simple',
    });
    return {
      simpleConfig: await get('/v2/models/simple/config'),
      chainConfig: await get('/v2/models/chain/config'),
      autoConfig: await get('/v2/models/auto/config'),
      v1Ready: (await fetch(`${url}/v2/models/simple/versions/1/ready`)).status,
      v2Ready: (await fetch(`${url}/v2/models/simple/versions/2/ready`)).status,
      latest: await infer('simple', { a: A, b: B }),
      v1: await infer('simple', { a: A, b: B }, 1, '1'),
      fullBatch: (await infer('simple', { a: A, b: B }, 8)).status,
      overBatch: await infer('simple', { a: A, b: B }, 9).then((r) => [r.status, r.code]),
      chain: await infer('chain', { X: A, Y: B }),
      autoBatch4: (await infer('auto', { a: A, b: B }, 4)).status,
      autoBatch5: (await infer('auto', { a: A, b: B }, 5)).status,
      grpc: {
        err: grpcConfig.err?.message,
        max_batch_size: grpcConfig.res?.config.max_batch_size,
        instance_group: (grpcConfig.res?.config.instance_group as Array<Record<string, unknown>>)?.map(
          (g) => [g.kind, g.count],
        ),
        output: (grpcConfig.res?.config.output as Array<Record<string, unknown>>)?.map((o) => [
          o.name,
          o.data_type,
          o.label_filename,
        ]),
      },
    };
  } finally {
    client.close();
  }
}

describe('Triton repository: config.pbtxt and config.json serve the same', () => {
  const seen: Record<string, Record<string, unknown>> = {};
  const roots: string[] = [];
  before(async () => {
    for (const form of ['pbtxt', 'json'] as const) {
      const root = makeRepository(form);
      roots.push(root);
      // Triton's own default-max-batch-size (4); without the flag inferd calibrates the size.
      const server = await startTestServer(root, { defaultMaxBatchSize: 4 });
      try {
        seen[form] = await observe(server);
      } finally {
        await server.close();
      }
    }
  });
  after(() => {
    for (const r of roots) rmSync(r, { recursive: true, force: true });
  });

  it('both forms behave and report identically', () => {
    // The no-config model's batch window is calibrated from timings taken at each load, so the
    // two loads agree only on its presence; everything else must match exactly.
    const calibrated = (s: Record<string, unknown>) => {
      const cfg = structuredClone(s);
      const db = (cfg.autoConfig as { body: { dynamic_batching?: Record<string, unknown> } }).body
        .dynamic_batching;
      assert.ok(
        db && typeof db.max_queue_delay_microseconds === 'number' && db.max_queue_delay_microseconds > 0,
      );
      delete db.max_queue_delay_microseconds;
      return cfg;
    };
    assert.deepEqual(calibrated(seen.pbtxt!), calibrated(seen.json!));
  });

  it('the config is served in Triton JSON shape', () => {
    const cfg = (seen.pbtxt!.simpleConfig as { status: number; body: Record<string, unknown> }).body;
    assert.equal(cfg.name, 'simple');
    assert.equal(cfg.max_batch_size, 8);
    assert.deepEqual(cfg.version_policy, { all: {} });
    assert.deepEqual((cfg.input as unknown[])[0], {
      name: 'a',
      data_type: 'TYPE_FP32',
      format: 'FORMAT_NONE',
      dims: [4],
      is_shape_tensor: false,
      allow_ragged_batch: false,
      optional: false,
      is_non_linear_format_io: false,
    });
    assert.equal((cfg.output as Array<Record<string, unknown>>)[0]!.label_filename, 'labels.txt');
    const group = (cfg.instance_group as Array<Record<string, unknown>>)[0]!;
    assert.equal(group.kind, 'KIND_CPU');
    assert.equal(group.count, 2);
    const db = cfg.dynamic_batching as Record<string, unknown>;
    assert.deepEqual(db.preferred_batch_size, [4]);
    assert.equal(db.max_queue_delay_microseconds, 500);
    assert.equal((db.default_queue_policy as Record<string, unknown>).max_queue_size, 32);
    assert.deepEqual(cfg.parameters, { owner: { string_value: 'search-team' } });
    assert.deepEqual(seen.pbtxt!.grpc, {
      err: undefined,
      max_batch_size: 8,
      instance_group: [['KIND_CPU', 2]],
      output: [
        ['sum', 'TYPE_FP32', 'labels.txt'],
        ['diff', 'TYPE_FP32', ''],
      ],
    });
  });

  it('version policy, batching bound and versions as configured', () => {
    const s = seen.pbtxt!;
    assert.equal(s.v1Ready, 200);
    assert.equal(s.v2Ready, 200);
    assert.deepEqual((s.latest as { outputs: unknown }).outputs, {
      sum: [21, 32, 43, 54],
      diff: [-9, -18, -27, -36],
    });
    assert.deepEqual((s.v1 as { outputs: unknown }).outputs, {
      sum: [11, 22, 33, 44],
      diff: [-9, -18, -27, -36],
    });
    assert.equal(s.fullBatch, 200);
    assert.deepEqual(s.overBatch, [400, 'invalid_request']);
  });

  it('the ensemble runs its steps in dependency order on the pipeline engine', () => {
    const s = seen.pbtxt!;
    // s = X + Y + 10 (latest), D = X - Y; TWICE = s + D (version 1, no offset) = 2X + 10.
    assert.deepEqual((s.chain as { outputs: unknown }).outputs, {
      TWICE: [12, 14, 16, 18],
      D: [-9, -18, -27, -36],
    });
    const cfg = (s.chainConfig as { body: Record<string, unknown> }).body;
    assert.equal(cfg.platform, 'ensemble');
    const steps = (cfg.ensemble_scheduling as { step: Array<Record<string, unknown>> }).step;
    assert.deepEqual(
      steps.map((st) => [st.model_name, st.model_version]),
      [
        ['simple', -1],
        ['simple', 1],
      ],
    );
  });

  it('a model with no config is auto-completed as Triton does', () => {
    const s = seen.pbtxt!;
    const cfg = (s.autoConfig as { body: Record<string, unknown> }).body;
    assert.equal(cfg.platform, 'onnxruntime_onnx');
    assert.equal(cfg.max_batch_size, 4, 'dynamic first dim → default max batch size 4');
    assert.ok(cfg.dynamic_batching, 'dynamic batching enabled with it');
    assert.deepEqual(
      (cfg.input as Array<Record<string, unknown>>).map((t) => [t.name, t.data_type, t.dims]),
      [
        ['a', 'TYPE_FP32', [4]],
        ['b', 'TYPE_FP32', [4]],
      ],
    );
    assert.equal(s.autoBatch4, 200);
    assert.equal(s.autoBatch5, 400);
  });
});
