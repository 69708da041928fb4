/**
 * int8 dynamic quantisation (ONNX Runtime's "dynamic" scheme, written over our own graph view):
 * weights become int8 with one symmetric scale per output channel (per column of a MatMul's B,
 * per output channel of a Conv), activations are quantised at run time from their own range.
 *
 * - `int8-matmul`: MatMul(A, B constant [K, N]) → com.microsoft DynamicQuantizeMatMul(A, B int8,
 *   scale [N], zero point [N] = 0): one fused op, any ai.onnx opset.
 * - `int8-conv`: Conv (group 1, constant weights) → DynamicQuantizeLinear(x) → ConvInteger(x, W
 *   int8) → Cast → ·(x scale · W scale [1, O, 1, 1]) → + bias. Needs ai.onnx opset ≥ 11
 *   (DynamicQuantizeLinear); a graph below that is left alone (the pass reports 0 changes).
 *
 * Measured on the PP-OCRv4 models (bench/results/ocr-speed.md): ORT's ConvInteger path was slower
 * than float, so the served models keep float weights; the passes exist to measure and for models
 * where they pay.
 */
import { type GraphView, attr } from './graph.js';

export type QuantizePass = 'int8-matmul' | 'int8-conv';
export const QUANTIZE_PASSES: readonly QuantizePass[] = ['int8-matmul', 'int8-conv'];

/** Symmetric int8 per row of `rows` × `per` values: q = round(w / s), s = max|w| / 127. */
function quantizeRows(
  values: Float32Array,
  rows: number,
  per: number,
  stride: (r: number, k: number) => number,
) {
  const q = new Int8Array(values.length);
  const scale = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let max = 0;
    for (let k = 0; k < per; k++) max = Math.max(max, Math.abs(values[stride(r, k)]));
    const s = max > 0 ? max / 127 : 1;
    scale[r] = s;
    for (let k = 0; k < per; k++) {
      const i = stride(r, k);
      q[i] = Math.max(-127, Math.min(127, Math.round(values[i] / s)));
    }
  }
  return { q, scale };
}

function int8MatMul(g: GraphView): number {
  let count = 0;
  for (const mm of [...g.nodes]) {
    if (mm.opType !== 'MatMul') continue;
    const [a, b] = mm.input ?? [];
    const w = b ? g.constant(b) : undefined;
    if (!a || !w || w.dims.length !== 2) continue;
    const [k, n] = w.dims;
    // Per column: column c's values are at r·n + c.
    const { q, scale } = quantizeRows(w.values, n, k, (c, r) => r * n + c);
    const base = mm.name || (mm.output?.[0] as string);
    g.remove(mm);
    g.nodes.push({
      opType: 'DynamicQuantizeMatMul',
      domain: 'com.microsoft',
      name: `${base}_int8`,
      input: [
        a,
        g.addInt8(`${base}_wq`, [k, n], q),
        g.addConstant(`${base}_ws`, [n], scale),
        g.addInt8(`${base}_wzp`, [n], new Int8Array(n)),
      ],
      output: [...(mm.output ?? [])],
    });
    count++;
  }
  if (count > 0) g.useOpset('com.microsoft', 1);
  return count;
}

function int8Conv(g: GraphView): number {
  if (g.opset() < 11) return 0;
  let count = 0;
  for (const conv of [...g.nodes]) {
    if (conv.opType !== 'Conv' || Number(attr(conv, 'group')?.i ?? 1) !== 1) continue;
    const [x, wName, bName] = conv.input ?? [];
    const w = wName ? g.constant(wName) : undefined;
    const bias = bName ? g.constant(bName) : undefined;
    if (!x || !w || w.dims.length !== 4 || (bName && !bias)) continue;
    const out = w.dims[0];
    const per = w.values.length / out;
    const { q, scale } = quantizeRows(w.values, out, per, (o, i) => o * per + i);
    const v = (s: string): string => g.freshName(`${conv.name || 'conv'}_${s}`);
    const [xq, xs, xzp, acc, f, s, m] = ['xq', 'xs', 'xzp', 'acc', 'f', 's', 'm'].map(v);
    const y = conv.output?.[0] as string;
    g.remove(conv);
    g.nodes.push(
      { opType: 'DynamicQuantizeLinear', input: [x], output: [xq, xs, xzp] },
      {
        opType: 'ConvInteger',
        input: [xq, g.addInt8(`${conv.name}_wq`, w.dims, q), xzp],
        output: [acc],
        attribute: (conv.attribute ?? []).filter((a) => a.name !== 'group'),
      },
      { opType: 'Cast', input: [acc], output: [f], attribute: [{ name: 'to', type: 2, i: 1 }] },
      { opType: 'Mul', input: [xs, g.addConstant(`${conv.name}_ws`, [1, out, 1, 1], scale)], output: [s] },
      { opType: 'Mul', input: [f, s], output: bias ? [m] : [y] },
    );
    if (bias)
      g.nodes.push({
        opType: 'Add',
        input: [m, g.addConstant(`${conv.name}_b`, [1, out, 1, 1], bias.values)],
        output: [y],
      });
    count++;
  }
  return count;
}

export const QUANTIZE_RUN: Record<QuantizePass, (g: GraphView) => number> = {
  'int8-matmul': int8MatMul,
  'int8-conv': int8Conv,
};
