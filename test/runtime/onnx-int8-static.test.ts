/**
 * int8 static quantisation (runtime/onnx/rewrite/quantize-static.ts) on a generated PP-LCNet-style
 * block: Conv 3×3 → BatchNormalization → hard-swish (u · HardSigmoid(u)) → depthwise Conv 3×3 →
 * Conv 1×1 → + residual, at opset 13 (ai.onnx Q/DQ) and 11 (com.microsoft Q/DQ). Ranges are
 * calibrated here on the float model; the quantised model must load in ONNX Runtime, be fused
 * into QLinearConv (its optimised graph), and stay within quantisation error of float.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import onnxProto from 'onnx-proto';
import ort from 'onnxruntime-node';
import { rewriteModel } from '../../src/runtime/onnx/rewrite/passes.js';
import { uint8Params, type Int8Ranges } from '../../src/runtime/onnx/rewrite/quantize-static.js';
import { buildModel, type InitTensor, type NodeSpec } from '../../src/training/graph-builder.js';
import { loadOnnxBackend } from '../helpers/onnx-backend.js';

/** Deterministic pseudo-random values in [-1, 1). */
function values(n: number, seed: number): number[] {
  let s = seed;
  return Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return (s / 2147483648) * 2 - 1;
  });
}

const C = 8;
const SHAPE = [2, 4, 10, 12];

function block(opset: number): Uint8Array {
  const t = (name: string, dims: number[], vals: number[]): InitTensor => ({
    name,
    type: 'FLOAT',
    dims,
    values: vals,
  });
  const initializers = [
    t('w1', [C, 4, 3, 3], values(C * 4 * 9, 1)),
    t('b1', [C], values(C, 2)),
    t(
      'gamma',
      [C],
      values(C, 3).map((v) => 1 + 0.3 * v),
    ),
    t('beta', [C], values(C, 4)),
    t(
      'mean',
      [C],
      values(C, 5).map((v) => 0.2 * v),
    ),
    t(
      'var',
      [C],
      values(C, 6).map((v) => 1 + 0.5 * v),
    ),
    t('wd', [C, 1, 3, 3], values(C * 9, 7)),
    t('bd', [C], values(C, 8)),
    t('w2', [C, C, 1, 1], values(C * C, 9)),
  ];
  const nodes: NodeSpec[] = [
    { op: 'Conv', inputs: ['x', 'w1', 'b1'], outputs: ['c1'], attrs: { pads: [1, 1, 1, 1] } },
    { op: 'BatchNormalization', inputs: ['c1', 'gamma', 'beta', 'mean', 'var'], outputs: ['u'] },
    {
      op: 'HardSigmoid',
      inputs: ['u'],
      outputs: ['hs'],
      attrs: { alpha: 1 / 6, beta: 0.5 },
      floatAttrs: ['alpha', 'beta'],
    },
    { op: 'Mul', inputs: ['u', 'hs'], outputs: ['h'] },
    { op: 'Conv', inputs: ['h', 'wd', 'bd'], outputs: ['d'], attrs: { pads: [1, 1, 1, 1], group: C } },
    { op: 'Conv', inputs: ['d', 'w2'], outputs: ['p'] },
    { op: 'Add', inputs: ['p', 'h'], outputs: ['y'] },
  ];
  return buildModel({
    inputs: [{ name: 'x', type: 'FLOAT', shape: SHAPE }],
    outputs: [{ name: 'y', type: 'FLOAT', shape: [SHAPE[0], C, SHAPE[2], SHAPE[3]] }],
    nodes,
    initializers,
    opset,
  });
}

const input = (seed: number): ort.Tensor =>
  new ort.Tensor(
    'float32',
    Float32Array.from(
      values(
        SHAPE.reduce((a, b) => a * b, 1),
        seed,
      ),
    ),
    SHAPE,
  );

/** Min/max of every float node output over a few inputs, as scripts/ocr-calibrate.ts records them. */
async function calibrate(model: Uint8Array): Promise<Int8Ranges> {
  const m = onnxProto.onnx.ModelProto.decode(model);
  const graph = m.graph as onnxProto.onnx.GraphProto;
  const names = graph.node.flatMap((n) => n.output ?? []).filter((o) => o !== 'y');
  for (const name of names) graph.output.push(onnxProto.onnx.ValueInfoProto.create({ name }));
  const s = await ort.InferenceSession.create(onnxProto.onnx.ModelProto.encode(m).finish());
  const ranges: Record<string, [number, number]> = {};
  // The inputs compared below are among them: a value beyond its calibrated range saturates,
  // which is calibration error, not the pass's.
  for (const seed of [11, 12, 21, 22]) {
    const out = await s.run({ x: input(seed) });
    for (const [name, v] of Object.entries(out)) {
      const data = v.data as Float32Array;
      const r = ranges[name] ?? [Infinity, -Infinity];
      ranges[name] = [Math.min(r[0], ...data), Math.max(r[1], ...data)];
    }
    ranges.x = [-1, 1];
  }
  await s.release();
  return ranges;
}

async function run(model: Uint8Array, x: ort.Tensor, optimizedModelFilePath?: string): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(model, {
    graphOptimizationLevel: 'all',
    ...(optimizedModelFilePath ? { optimizedModelFilePath } : {}),
  });
  const out = (await s.run({ x })).y.data as Float32Array;
  await s.release();
  return out;
}

describe('int8 static quantisation (int8-qdq)', () => {
  it('uint8Params covers the range with an exact zero', () => {
    assert.deepEqual(uint8Params(0, 2.55), { scale: 2.55 / 255, zeroPoint: 0 });
    const p = uint8Params(-1, 3) as { scale: number; zeroPoint: number };
    assert.equal(p.zeroPoint, 64);
    assert.ok(Math.abs(p.scale - 4 / 255) < 1e-12);
    assert.equal(uint8Params(0, 0), undefined);
  });

  for (const opset of [13, 11]) {
    it(`opset ${opset}: ORT fuses QLinearConv and the outputs stay within quantisation error`, async () => {
      const model = block(opset);
      const ranges = await calibrate(model);
      const { model: q, changed } = rewriteModel(model, ['int8-qdq'], { int8Ranges: ranges });
      assert.equal(changed['int8-qdq'], 3);
      const graph = onnxProto.onnx.ModelProto.decode(q).graph as onnxProto.onnx.GraphProto;
      const ops = graph.node.map((n) => `${n.domain ?? ''}:${n.opType}`);
      const qdqDomain = opset >= 13 ? '' : 'com.microsoft';
      assert.ok(ops.includes(`${qdqDomain}:QuantizeLinear`) && ops.includes(`${qdqDomain}:DequantizeLinear`));
      assert.ok(!ops.some((o) => o.endsWith('BatchNormalization') || o.endsWith('HardSigmoid')));
      assert.ok(graph.initializer.some((i) => i.dataType === 3)); // int8 weights
      assert.ok(graph.initializer.some((i) => i.dataType === 6)); // int32 bias

      const dir = mkdtempSync(join(tmpdir(), 'inferd-int8-'));
      try {
        for (const seed of [21, 22]) {
          const x = input(seed);
          const want = await run(model, x);
          const optimised = join(dir, `opt-${seed}.onnx`);
          const got = await run(q, x, optimised);
          const fused = onnxProto.onnx.ModelProto.decode(readFileSync(optimised)).graph?.node ?? [];
          assert.equal(fused.filter((n) => n.opType === 'QLinearConv').length, 3, 'three QLinearConv');
          assert.ok(!fused.some((n) => n.opType === 'Conv'), 'no float Conv left');
          let span = 0;
          let err = 0;
          for (let i = 0; i < want.length; i++) {
            span = Math.max(span, Math.abs(want[i]));
            err = Math.max(err, Math.abs(got[i] - want[i]));
          }
          // A few uint8 steps (1/255 of each range) through three convs; a wrong scale is far off.
          assert.ok(err < 0.04 * span, `max error ${err} vs max |y| ${span}`);
          assert.ok(err > 0, 'quantised, not float');
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  it('refuses a graph below opset 10 and a missing calibration', () => {
    assert.throws(() => rewriteModel(block(9), ['int8-qdq'], { int8Ranges: {} }), /opset 9/);
    assert.throws(() => rewriteModel(block(13), ['int8-qdq']), /calibrated ranges/);
  });

  it('leaves a Conv without calibrated ranges float', async () => {
    const model = block(13);
    const ranges = await calibrate(model);
    const { p: _p, ...partial } = ranges;
    const { changed } = rewriteModel(model, ['int8-qdq'], { int8Ranges: partial });
    assert.equal(changed['int8-qdq'], 2);
  });

  it('a served model reads its ranges from onnxruntime.int8_calibration, checked against its passes', async () => {
    const model = block(13);
    const dir = mkdtempSync(join(tmpdir(), 'inferd-int8-cal-'));
    try {
      const file = join(dir, 'int8-ranges.json');
      writeFileSync(file, JSON.stringify({ graph_rewrites: [], ranges: await calibrate(model) }));
      const config = (passes: string[], calibration: string) => ({
        max_batch_size: 0,
        instance_group: [{ count: 1 }],
        onnxruntime: {
          intra_op_num_threads: 1,
          pipeline_depth: 1,
          graph_rewrites: passes,
          int8_calibration: calibration,
        },
      });
      const backend = await loadOnnxBackend('int8', model, config(['int8-qdq'], file));
      try {
        const x = input(21);
        const want = await run(model, x);
        // The backend transfers the input's buffer to its worker: a copy.
        const data = Float32Array.from(x.data as Float32Array);
        const [y] = await backend.infer([{ name: 'x', datatype: 'FP32', shape: SHAPE, data }]);
        const got = y.data as Float32Array;
        const span = Math.max(...want.map(Math.abs));
        assert.ok(got.every((v, i) => Math.abs(v - want[i]) < 0.04 * span));
      } finally {
        await backend.unload();
      }
      writeFileSync(file, JSON.stringify({ graph_rewrites: ['hard-swish'], ranges: {} }));
      await assert.rejects(loadOnnxBackend('int8', model, config(['int8-qdq'], file)), /int8_calibration/);
      await assert.rejects(
        loadOnnxBackend('int8', model, config(['int8-qdq'], join(dir, 'none.json'))),
        /cannot read/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
