/**
 * The exact graph rewrites (runtime/onnx/rewrite/fold.ts) on generated PP-LCNetV3-style blocks:
 * conv → affine → hard-swish (four ops) → affine → conv, with padded and unpadded convs, weights
 * as initializers or as paddle2onnx's Constant nodes, Clip in opset 9 (attributes) and 11
 * (inputs). The rewritten model computes the same outputs with fewer nodes, and a model served
 * with `onnxruntime.graph_rewrites` answers as the model without it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import ort from 'onnxruntime-node';
import { FOLD_PASSES } from '../../src/runtime/onnx/rewrite/fold.js';
import { rewriteModel } from '../../src/runtime/onnx/rewrite/passes.js';
import { GraphView } from '../../src/runtime/onnx/rewrite/graph.js';
import { buildModel, type InitTensor, type NodeSpec } from '../../src/training/graph-builder.js';
import type { RunningServer } from '../../src/server.js';
import { writeModel } from '../fixtures/repository.js';
import { adminHeaders, startTestServer } from '../helpers/server.js';

/** Deterministic pseudo-random values in [-1, 1). */
function values(n: number, seed: number): number[] {
  let s = seed;
  return Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return (s / 2147483648) * 2 - 1;
  });
}

/**
 * x [N,4,6,6] → Conv3×3 pad 1 → ·1.5 + 0.25 → hard-swish → ·0.7 + b → Conv1×1 → ·2 + 0.1 →
 * hard-swish → ·0.5 − 0.3 → Conv3×3 pad 1 (grouped) → y. `shift` is the first affine's b.
 */
function lcnetBlock(opts: { opset: number; constants: boolean; shift: number }): Uint8Array {
  const tensors: InitTensor[] = [];
  const t = (name: string, dims: number[], vals: number[]): string => {
    tensors.push({ name, type: 'FLOAT', dims, values: vals });
    return name;
  };
  const nodes: NodeSpec[] = [];
  let k = 0;
  const affine = (x: string, s: number, b: number): string => {
    nodes.push({ op: 'Mul', inputs: [t(`s${k}`, [], [s]), x], outputs: [`m${k}`] });
    nodes.push({ op: 'Add', inputs: [`m${k}`, t(`b${k}`, [1], [b])], outputs: [`a${k}`] });
    return `a${k++}`;
  };
  const hardSwish = (u: string): string => {
    const i = k++;
    nodes.push({ op: 'Add', inputs: [u, t(`three${i}`, [], [3])], outputs: [`h3_${i}`] });
    if (opts.opset < 11) {
      nodes.push({
        op: 'Clip',
        inputs: [`h3_${i}`],
        outputs: [`hc${i}`],
        attrs: { min: 0, max: 6 },
        floatAttrs: ['min', 'max'],
      });
    } else {
      nodes.push({
        op: 'Clip',
        inputs: [`h3_${i}`, t(`lo${i}`, [], [0]), t(`hi${i}`, [], [6])],
        outputs: [`hc${i}`],
      });
    }
    nodes.push({ op: 'Mul', inputs: [u, `hc${i}`], outputs: [`hm${i}`] });
    nodes.push({ op: 'Div', inputs: [`hm${i}`, t(`six${i}`, [], [6])], outputs: [`hs${i}`] });
    return `hs${i}`;
  };
  nodes.push({
    op: 'Conv',
    inputs: ['x', t('w1', [8, 4, 3, 3], values(288, 1)), t('c1', [8], values(8, 2))],
    outputs: ['conv1'],
    attrs: { pads: [1, 1, 1, 1], kernel_shape: [3, 3] },
  });
  let h = affine(hardSwish(affine('conv1', 1.5, 0.25)), 0.7, opts.shift);
  nodes.push({ op: 'Conv', inputs: [h, t('w2', [8, 8, 1, 1], values(64, 3))], outputs: ['conv2'] });
  h = affine(hardSwish(affine('conv2', 2, 0.1)), 0.5, -0.3);
  nodes.push({
    op: 'Conv',
    inputs: [h, t('w3', [8, 2, 3, 3], values(144, 4)), t('c3', [8], values(8, 5))],
    outputs: ['y'],
    attrs: { pads: [1, 1, 1, 1], group: 4, kernel_shape: [3, 3] },
  });
  // paddle2onnx keeps weights in Constant nodes instead of initializers.
  const consts: NodeSpec[] = opts.constants
    ? tensors.map((tensor) => ({
        op: 'Constant',
        inputs: [],
        outputs: [tensor.name],
        attrs: { value: { tensor } },
      }))
    : [];
  return buildModel({
    opset: opts.opset,
    inputs: [{ name: 'x', type: 'FLOAT', shape: ['N', 4, 6, 6] }],
    outputs: [{ name: 'y', type: 'FLOAT', shape: ['N', 8, 6, 6] }],
    initializers: opts.constants ? [] : tensors,
    nodes: [...consts, ...nodes],
  });
}

async function run(model: Uint8Array, x: Float32Array): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(model);
  try {
    const out = await s.run({ x: new ort.Tensor('float32', x, [2, 4, 6, 6]) });
    return out.y.data as Float32Array;
  } finally {
    await s.release();
  }
}

const computeNodes = (model: Uint8Array): number =>
  new GraphView(model).nodes.filter((n) => n.opType !== 'Constant').length;

describe('exact graph rewrites', () => {
  const x = Float32Array.from(values(2 * 4 * 6 * 6, 9), (v) => v * 4);
  for (const opts of [
    { opset: 9, constants: true, shift: 0 },
    { opset: 9, constants: true, shift: 0.4 },
    { opset: 11, constants: false, shift: 0.4 },
    { opset: 13, constants: false, shift: 0 },
  ]) {
    it(`computes the same outputs with fewer nodes (${JSON.stringify(opts)})`, async () => {
      const original = lcnetBlock(opts);
      const { model, changed } = rewriteModel(original);
      assert.deepEqual(changed, { 'hard-swish': 2, 'affine-into-conv': 2, 'scale-into-next-conv': 2 });
      const [a, b] = [await run(original, x), await run(model, x)];
      assert.equal(a.length, b.length);
      let worst = 0;
      for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
      assert.ok(worst < 1e-4, `max difference ${worst}`);
      // 3 convs, 2 × (HardSigmoid + Mul), and the Add(h, b/s) kept before the padded conv (its
      // b is −0.3); the first block's b goes into the unpadded 1×1 conv's bias.
      assert.equal(computeNodes(original), 19);
      assert.equal(computeNodes(model), 8);
    });
  }

  it('applies only the passes asked for, and leaves a graph without the patterns alone', async () => {
    const original = lcnetBlock({ opset: 11, constants: false, shift: 0 });
    const { changed } = rewriteModel(original, ['hard-swish']);
    assert.deepEqual(changed, { 'hard-swish': 2 });
    const plain = buildModel({
      inputs: [{ name: 'x', type: 'FLOAT', shape: [1] }],
      outputs: [{ name: 'y', type: 'FLOAT', shape: [1] }],
      initializers: [{ name: 'two', type: 'FLOAT', dims: [], values: [2] }],
      nodes: [{ op: 'Mul', inputs: ['x', 'two'], outputs: ['y'] }],
    });
    const res = rewriteModel(plain, FOLD_PASSES);
    assert.deepEqual(Object.values(res.changed), [0, 0, 0]);
  });
});

describe('onnxruntime.graph_rewrites in a served model', () => {
  let server: RunningServer;
  before(async () => {
    const root = mkdtempSync(join(tmpdir(), 'inferd-rewrite-'));
    const model = lcnetBlock({ opset: 9, constants: true, shift: 0.4 });
    writeModel(root, 'plain', 1, model, { max_batch_size: 0 });
    writeModel(root, 'folded', 1, model, {
      max_batch_size: 0,
      onnxruntime: { graph_rewrites: ['hard-swish', 'affine-into-conv', 'scale-into-next-conv'] },
    });
    writeModel(root, 'unknown', 1, model, { max_batch_size: 0, onnxruntime: { graph_rewrites: ['int4'] } });
    server = await startTestServer(root);
  });
  after(async () => server.close());

  const infer = async (name: string): Promise<{ status: number; body: Record<string, unknown> }> => {
    const res = await fetch(`${server.httpUrl}/v2/models/${name}/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        inputs: [
          { name: 'x', shape: [2, 4, 6, 6], datatype: 'FP32', data: values(288, 9).map((v) => v * 4) },
        ],
      }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it('answers as the model without the rewrites', async () => {
    const [plain, folded] = [await infer('plain'), await infer('folded')];
    assert.equal(plain.status, 200);
    assert.equal(folded.status, 200);
    const data = (r: typeof plain): number[] => (r.body.outputs as { data: number[] }[])[0].data;
    const [a, b] = [data(plain), data(folded)];
    assert.equal(a.length, 2 * 8 * 36);
    a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) < 1e-4, `${i}: ${v} vs ${b[i]}`));
  });

  it('refuses an unknown pass name as a config error', async () => {
    const res = await fetch(`${server.httpUrl}/v2/models/unknown/ready`);
    assert.notEqual(res.status, 200);
    const index = await fetch(`${server.httpUrl}/v2/repository/index`, {
      method: 'POST',
      headers: adminHeaders(),
    });
    const text = await index.text();
    assert.match(text, /graph_rewrites/);
  });
});

describe('opset lift and int8 dynamic quantisation', () => {
  const sliceClip = (op: 'Pad' | 'Slice'): Uint8Array =>
    buildModel({
      opset: 9,
      inputs: [{ name: 'x', type: 'FLOAT', shape: [2, 6] }],
      outputs: [{ name: 'y', type: 'FLOAT', shape: [2, 3] }],
      nodes: [
        op === 'Slice'
          ? { op: 'Slice', inputs: ['x'], outputs: ['s'], attrs: { starts: [1], ends: [4], axes: [1] } }
          : { op: 'Pad', inputs: ['x'], outputs: ['s'], attrs: { pads: [0, 0, 0, 0] } },
        {
          op: 'Clip',
          inputs: ['s'],
          outputs: ['y'],
          attrs: { min: -0.5, max: 0.5 },
          floatAttrs: ['min', 'max'],
        },
      ],
    });

  it('opset-11 lifts Slice and Clip from attributes to inputs, same outputs', async () => {
    const original = sliceClip('Slice');
    const { model, changed } = rewriteModel(original, ['opset-11']);
    assert.deepEqual(changed, { 'opset-11': 2 });
    assert.equal(new GraphView(model).opset(), 11);
    const x = Float32Array.from(values(12, 3));
    const run2 = async (m: Uint8Array): Promise<number[]> => {
      const s = await ort.InferenceSession.create(m);
      const out = await s.run({ x: new ort.Tensor('float32', x, [2, 6]) });
      await s.release();
      return Array.from(out.y.data as Float32Array);
    };
    assert.deepEqual(await run2(model), await run2(original));
  });

  it('opset-11 refuses a graph with an operator whose meaning changed (Pad)', () => {
    assert.throws(() => rewriteModel(sliceClip('Pad'), ['opset-11']), /Pad changed/);
  });

  it('int8-matmul and int8-conv keep outputs within 2% of the range and store int8 weights', async () => {
    const model = buildModel({
      opset: 13,
      inputs: [{ name: 'x', type: 'FLOAT', shape: ['N', 4, 6, 6] }],
      outputs: [{ name: 'y', type: 'FLOAT', shape: ['N', 8, 6, 16] }],
      initializers: [
        { name: 'w', type: 'FLOAT', dims: [8, 4, 3, 3], values: values(288, 1) },
        { name: 'b', type: 'FLOAT', dims: [8], values: values(8, 2) },
        { name: 'm', type: 'FLOAT', dims: [6, 16], values: values(96, 3) },
      ],
      nodes: [
        {
          op: 'Conv',
          inputs: ['x', 'w', 'b'],
          outputs: ['c'],
          attrs: { pads: [1, 1, 1, 1], kernel_shape: [3, 3] },
        },
        { op: 'MatMul', inputs: ['c', 'm'], outputs: ['y'] },
      ],
    });
    const { model: q, changed } = rewriteModel(model, ['int8-conv', 'int8-matmul']);
    assert.deepEqual(changed, { 'int8-conv': 1, 'int8-matmul': 1 });
    const types = new GraphView(q).graph.initializer.map((t) => t.dataType);
    assert.ok(types.includes(3), 'int8 initializers');
    const x = Float32Array.from(values(2 * 4 * 36, 9));
    const out = async (m: Uint8Array): Promise<Float32Array> => {
      const s = await ort.InferenceSession.create(m);
      const r = await s.run({ x: new ort.Tensor('float32', x, [2, 4, 6, 6]) });
      await s.release();
      return r.y.data as Float32Array;
    };
    const [a, b] = [await out(model), await out(q)];
    const range = Math.max(...a.map(Math.abs));
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
    assert.ok(worst < 0.02 * range, `max difference ${worst} of range ${range}`);
  });

  it('int8-conv leaves a graph below opset 11 alone (it needs DynamicQuantizeLinear)', () => {
    const { changed } = rewriteModel(lcnetBlock({ opset: 9, constants: true, shift: 0 }), ['int8-conv']);
    assert.deepEqual(changed, { 'int8-conv': 0 });
  });
});
