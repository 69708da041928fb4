// Model repositories for bench/compare.mjs, written into a temp folder:
// - the compute-bound MLP (FP32 x [N, 1024] → 4096 → 4096 → y [N, 1024], ReLU between; 24 M
//   weights = 96 MB, ~48 MFLOP per row) generated with our ONNX builder, and
// - the overhead-bound model: models/spam/1/model.onnx when it exists, else the `add` fixture.
// Each model gets two repositories that differ only in config: `batch` (max_batch_size +
// dynamic_batching) and `nobatch` (same max_batch_size, no dynamic_batching: one request per run).
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildModel } from '../dist/src/onnx/builder.js';
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

function writeRepo(root, name, modelFile, config) {
  mkdirSync(join(root, name, '1'), { recursive: true });
  copyFileSync(modelFile, join(root, name, '1', 'model.onnx'));
  writeFileSync(join(root, name, 'config.json'), JSON.stringify(config, null, 2));
  return root;
}

/**
 * `spec`: { name, file (the .onnx), maxBatch, delayUs, request (a one-row JSON OIP body) }.
 * The batched config bounds the queue at maxBatch requests.
 * Returns { batchRepo, nobatchRepo } for `inferd serve --model-repository`.
 */
export function makeRepos(spec) {
  const base = mkdtempSync(join(tmpdir(), `inferd-bench-${spec.name}-`));
  // Queue bound = one full batch: under overload an admitted request then waits for at most the
  // batch in flight plus its own, instead of the default 4 batches (max(64, 4 × max_batch_size)).
  const dyn = { max_queue_delay_microseconds: spec.delayUs, max_queue_size: spec.maxBatch };
  return {
    batchRepo: writeRepo(join(base, 'batch'), spec.name, spec.file, {
      max_batch_size: spec.maxBatch,
      dynamic_batching: dyn,
    }),
    nobatchRepo: writeRepo(join(base, 'nobatch'), spec.name, spec.file, { max_batch_size: spec.maxBatch }),
    base,
  };
}

const rowOf = (n, f) => Array.from({ length: n }, (_, i) => f(i));

/** The two models of the comparison, with their one-row requests. */
export function benchModels(dir) {
  mkdirSync(dir, { recursive: true });
  const mlpFile = join(dir, 'mlp.onnx');
  if (!existsSync(mlpFile)) writeFileSync(mlpFile, mlpModel());
  const mlp = {
    name: 'mlp',
    file: mlpFile,
    maxBatch: 64,
    delayUs: 0,
    request: {
      inputs: [{ name: 'x', shape: [1, 1024], datatype: 'FP32', data: rowOf(1024, (i) => Math.sin(i)) }],
    },
  };
  const spamFile = 'models/spam/1/model.onnx';
  const small = existsSync(spamFile)
    ? {
        name: 'spam',
        file: spamFile,
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
        const f = join(dir, 'add.onnx');
        writeFileSync(f, addModel());
        return {
          name: 'add',
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
  return { small, mlp };
}
