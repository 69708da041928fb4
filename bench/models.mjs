// Model repositories for bench/compare.mjs, written into a temp folder:
// - the compute-bound CNN (see cnnModel) generated with our ONNX builder,
// - the MLP (FP32 x [N, 1024] → 4096 → 4096 → y [N, 1024], ReLU between; 24 M weights = 96 MB,
//   ~48 MFLOP per row against 20 KB of JSON each way: between the two regimes), and
// - the overhead-bound model: models/spam/1/model.onnx when it exists, else the `add` fixture.
// Each model gets repositories that differ only in config: `batch` (max_batch_size +
// dynamic_batching), `nobatch` (same max_batch_size, no dynamic_batching: one request per run) and
// `overload` (dynamic batching with a latency-bounded queue).
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildModel } from '../dist/src/training/graph-builder.js';
import { addModel } from '../dist/test/fixtures/repository.js';

/** Deterministic small weights (an LCG, so every run builds the same file): U(-a, a), a = 1/sqrt(fan_in). */
function weights(rows, cols, seed) {
  const w = new Float32Array(rows * cols);
  const a = 1 / Math.sqrt(rows);
  let s = seed >>> 0;
  for (let i = 0; i < w.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    w[i] = (s / 2 ** 32 - 0.5) * 2 * a;
  }
  return w;
}

export function mlpModel(dims = [1024, 4096, 4096, 1024]) {
  const initializers = [];
  const nodes = [];
  let h = 'x';
  for (let i = 0; i + 1 < dims.length; i++) {
    initializers.push({
      name: `w${i}`,
      type: 'FLOAT',
      dims: [dims[i], dims[i + 1]],
      values: weights(dims[i], dims[i + 1], i + 1),
    });
    initializers.push({
      name: `b${i}`,
      type: 'FLOAT',
      dims: [dims[i + 1]],
      values: new Float32Array(dims[i + 1]),
    });
    const last = i + 2 === dims.length;
    nodes.push({ op: 'MatMul', inputs: [h, `w${i}`], outputs: [`m${i}`] });
    nodes.push({ op: 'Add', inputs: [`m${i}`, `b${i}`], outputs: [last ? 'y' : `a${i}`] });
    if (!last) nodes.push({ op: 'Relu', inputs: [`a${i}`], outputs: [`h${i + 1}`] });
    h = `h${i + 1}`;
  }
  return buildModel({
    inputs: [{ name: 'x', type: 'FLOAT', shape: ['N', dims[0]] }],
    outputs: [{ name: 'y', type: 'FLOAT', shape: ['N', dims.at(-1)] }],
    initializers,
    nodes,
  });
}

/**
 * The compute-bound CNN: x [N, 1, 28, 28] (an MNIST-sized image) → six 3×3 convolutions with ReLU
 * (64, 128, 128, 256, 512, 512 channels; 2×2 max-pools after the 3rd and 5th) → global average
 * pool → y [N, 10]. 4.5 M weights (18 MB) but ~1.2 GFLOP per row: one inference takes several
 * milliseconds even on both cores, and compute dwarfs the 784-number request.
 */
export function cnnModel() {
  const layers = [
    [1, 64, false],
    [64, 128, false],
    [128, 128, true],
    [128, 256, false],
    [256, 512, true],
    [512, 512, false],
  ];
  const initializers = [];
  const nodes = [];
  let h = 'x';
  layers.forEach(([cin, cout, pool], i) => {
    initializers.push({
      name: `k${i}`,
      type: 'FLOAT',
      dims: [cout, cin, 3, 3],
      values: weights(cin * 9, cout, i + 11),
    });
    initializers.push({
      name: `c${i}`,
      type: 'FLOAT',
      dims: [cout],
      values: new Float32Array(cout).fill(0.01),
    });
    nodes.push({
      op: 'Conv',
      inputs: [h, `k${i}`, `c${i}`],
      outputs: [`conv${i}`],
      attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] },
    });
    nodes.push({ op: 'Relu', inputs: [`conv${i}`], outputs: [`relu${i}`] });
    h = `relu${i}`;
    if (pool) {
      nodes.push({
        op: 'MaxPool',
        inputs: [h],
        outputs: [`pool${i}`],
        attrs: { kernel_shape: [2, 2], strides: [2, 2] },
      });
      h = `pool${i}`;
    }
  });
  initializers.push({ name: 'fc_shape', type: 'INT64', dims: [2], values: [0, -1] });
  const last = layers.at(-1)[1];
  initializers.push({ name: 'fc_w', type: 'FLOAT', dims: [last, 10], values: weights(last, 10, 99) });
  initializers.push({ name: 'fc_b', type: 'FLOAT', dims: [10], values: new Float32Array(10) });
  nodes.push({ op: 'GlobalAveragePool', inputs: [h], outputs: ['gap'] });
  nodes.push({ op: 'Reshape', inputs: ['gap', 'fc_shape'], outputs: ['flat'] });
  nodes.push({ op: 'MatMul', inputs: ['flat', 'fc_w'], outputs: ['fc'] });
  nodes.push({ op: 'Add', inputs: ['fc', 'fc_b'], outputs: ['y'] });
  return buildModel({
    inputs: [{ name: 'x', type: 'FLOAT', shape: ['N', 1, 28, 28] }],
    outputs: [{ name: 'y', type: 'FLOAT', shape: ['N', 10] }],
    initializers,
    nodes,
  });
}

function writeRepo(root, name, modelFile, config) {
  mkdirSync(join(root, name, '1'), { recursive: true });
  copyFileSync(modelFile, join(root, name, '1', 'model.onnx'));
  writeFileSync(join(root, name, 'config.json'), JSON.stringify(config, null, 2));
  return root;
}

/**
 * `spec`: { name, file (the .onnx), maxBatch, delayUs, request (a one-row JSON OIP body), threads?,
 * instances?, priority?, depth?, overload? ({ maxBatch, queue, instances?, priority? }) }.
 * Returns { batchRepo, nobatchRepo, overloadRepo, overloadConfig } for `inferd serve --model-repository`.
 * The closed-loop repositories keep inferd's default queue bound (max(64, 4 × max_batch_size)), so
 * that 64 closed-loop clients are never refused. The overload repository bounds the queue for
 * latency: an admitted request then waits behind at most `queue` rows.
 */
export function makeRepos(spec) {
  const base = mkdtempSync(join(tmpdir(), `inferd-bench-${spec.name}-`));
  const ortCfg = {
    ...(spec.threads ? { intra_op_num_threads: spec.threads } : {}),
    ...(spec.priority !== undefined ? { thread_priority: spec.priority } : {}),
    ...(spec.depth !== undefined ? { pipeline_depth: spec.depth } : {}),
  };
  const common = {
    ...(Object.keys(ortCfg).length > 0 ? { onnxruntime: ortCfg } : {}),
    ...(spec.instances ? { instance_group: [{ count: spec.instances, kind: 'KIND_CPU' }] } : {}),
  };
  const over = spec.overload ?? { maxBatch: spec.maxBatch, queue: spec.maxBatch };
  const overloadConfig = {
    max_batch_size: over.maxBatch,
    dynamic_batching: { max_queue_delay_microseconds: spec.delayUs, max_queue_size: over.queue },
    ...common,
    ...(over.instances ? { instance_group: [{ count: over.instances, kind: 'KIND_CPU' }] } : {}),
    // Waiting requests stay in the scheduler's bounded queue, never in a worker's.
    onnxruntime: {
      ...common.onnxruntime,
      pipeline_depth: 1,
      ...(over.priority ? { thread_priority: over.priority } : {}),
    },
  };
  return {
    batchRepo: writeRepo(join(base, 'batch'), spec.name, spec.file, {
      max_batch_size: spec.maxBatch,
      dynamic_batching: { max_queue_delay_microseconds: spec.delayUs },
      ...common,
    }),
    nobatchRepo: writeRepo(join(base, 'nobatch'), spec.name, spec.file, {
      max_batch_size: spec.maxBatch,
      ...common,
    }),
    overloadRepo: writeRepo(join(base, 'overload'), spec.name, spec.file, overloadConfig),
    overloadConfig,
    base,
  };
}

const rowOf = (n, f) => Array.from({ length: n }, (_, i) => f(i));

/** `dir/name`, built once: the generated models take seconds and hundreds of MB to write. */
function cached(dir, name, build) {
  const file = join(dir, name);
  if (!existsSync(file)) writeFileSync(file, build());
  return file;
}

/** The models of the comparison, with their one-row requests. */
export function benchModels(dir) {
  mkdirSync(dir, { recursive: true });
  const mlpFile = cached(dir, 'mlp.onnx', mlpModel);
  const mlp = {
    name: 'mlp',
    summary: 'FP32 MLP 1024→4096→4096→1024: 96 MB of weights, 20 KB of JSON each way per row',
    file: mlpFile,
    maxBatch: 64,
    delayUs: 0,
    request: {
      inputs: [{ name: 'x', shape: [1, 1024], datatype: 'FP32', data: rowOf(1024, (i) => Math.sin(i)) }],
    },
  };
  // The file name carries the architecture, so that a changed cnnModel() is never served stale.
  const cnnFile = cached(dir, 'cnn-64-512.onnx', cnnModel);
  const cnn = {
    name: 'cnn',
    summary: 'compute-bound: FP32 CNN, 6 conv layers, ~1.2 GFLOP per 28×28 row',
    file: cnnFile,
    maxBatch: 16,
    delayUs: 0,
    // Two single-threaded instances: no intra-op barrier for the event loop to stall, 10% more
    // rows/s than one two-threaded instance on the 2-core bench machine; double buffered.
    instances: 2,
    threads: 1,
    depth: 2,
    // Throughput: inference at normal priority. At SCHED_IDLE every other thread (the event loop,
    // the load generator, GC helpers) preempts it at once: 124 against 133 rows/s here.
    priority: 'normal',
    // Overload: no batching gain to win for this model, and a one-request queue: an admitted
    // request waits for at most one execution ahead of its own. One instance (cores − 1) leaves a
    // core to the event loop, which must keep refusing at once; on this 2-core box the load
    // generator lives there too. With two instances both cores compute, and inference (at
    // SCHED_IDLE) stalled whenever the generator and the refusals took CPU: admitted p99 2.3× the
    // unloaded p99 against 1.85× with one (overload step alone, back to back; docs/benchmarks.md).
    overload: { maxBatch: 1, queue: 1, instances: 1, priority: 'idle' },
    request: {
      inputs: [
        {
          name: 'x',
          shape: [1, 1, 28, 28],
          datatype: 'FP32',
          data: rowOf(784, (i) => Number((0.5 + 0.5 * Math.sin(i / 7)).toFixed(4))),
        },
      ],
    },
  };
  const spamFile = 'models/spam/1/model.onnx';
  const small = existsSync(spamFile)
    ? {
        name: 'spam',
        summary:
          'overhead-bound: the embedded spam model; inferd: 2 single-threaded instances, pipeline_depth 2',
        file: spamFile,
        // Two single-threaded instances: the event loop and inference then share both cores as load
        // shifts, where one instance left one core to wait on the other. Session 5 A/B (wrk, c=64,
        // 3 × 6 s interleaved): 13,885 req/s against 12,375 with one instance, 11,808 with one
        // two-threaded instance; 13,222 against 11,436 in a second round (bench/results/).
        instances: 2,
        threads: 1,
        depth: 2,
        maxBatch: 64,
        delayUs: 0,
        request: {
          inputs: [
            {
              name: 'text',
              shape: [1],
              datatype: 'BYTES',
              data: ['WINNER! Claim your free prize now, reply YES'],
            },
          ],
        },
      }
    : (() => {
        const f = cached(dir, 'add.onnx', addModel);
        return {
          name: 'add',
          summary: 'overhead-bound: the add fixture',
          file: f,
          maxBatch: 64,
          delayUs: 0,
          request: {
            inputs: [
              { name: 'a', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] },
              { name: 'b', shape: [1, 4], datatype: 'FP32', data: [5, 6, 7, 8] },
            ],
          },
        };
      })();
  return { small, mlp, cnn };
}
