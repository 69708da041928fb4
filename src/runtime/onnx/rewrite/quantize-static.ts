/**
 * int8 static quantisation in ONNX's QDQ form, written over our own graph view: each chosen Conv
 * becomes DQ(x) → Conv(DQ(W), DQ(B)) → Q → DQ, which ONNX Runtime (graph optimisation level
 * `all`) fuses into one QLinearConv running MLAS's u8s8 kernels.
 *
 * - weights: int8, symmetric, one scale per output channel (zero point 0);
 * - activations: uint8, asymmetric, scale and zero point from a calibrated [min, max] per tensor
 *   (scripts/ocr-calibrate.ts writes them; config `onnxruntime.int8_calibration` names the file);
 * - bias: int32 with scale x_scale · w_scale[o] (what QLinearConv takes; ORT's fusion needs it).
 *
 * A Conv is left float when its input or output has no calibrated range, or its weights are not
 * constants. Below ai.onnx opset 13 (per-axis DequantizeLinear) the com.microsoft Q/DQ ops are
 * used, which ORT's QDQ fusion accepts the same way. The graph must be at opset 10 or later, since
 * ORT's fused node is ai.onnx QLinearConv: PP-OCRv4 rec (opset 9) takes `opset-11` first.
 *
 * Passes: `int8-qdq` quantises every Conv; `int8-qdq-dense` only group-1 Convs (depthwise ones
 * stay float).
 */
import { type GraphView, attr, type NodeProto } from './graph.js';

/** Calibrated activation ranges: tensor name → [min, max] seen on the calibration inputs. */
export type Int8Ranges = Readonly<Record<string, readonly [number, number]>>;

export type StaticQuantizePass = 'int8-qdq' | 'int8-qdq-dense';
export const STATIC_QUANTIZE_PASSES: readonly StaticQuantizePass[] = ['int8-qdq', 'int8-qdq-dense'];

/** uint8 affine parameters covering [min, max] and 0 (zero must be exact: padding is zeros). */
export function uint8Params(min: number, max: number): { scale: number; zeroPoint: number } | undefined {
  const lo = Math.min(0, min);
  const hi = Math.max(0, max);
  if (!(hi - lo > 0) || !Number.isFinite(hi - lo)) return undefined;
  const scale = (hi - lo) / 255;
  const zeroPoint = Math.max(0, Math.min(255, Math.round(-lo / scale)));
  return { scale, zeroPoint };
}

/** int8 symmetric per output channel (the first dim): q = round(w / s), s = max|w| / 127. */
function perChannel(values: Float32Array, out: number) {
  const per = values.length / out;
  const q = new Int8Array(values.length);
  const scale = new Float32Array(out);
  for (let o = 0; o < out; o++) {
    let max = 0;
    for (let k = 0; k < per; k++) max = Math.max(max, Math.abs(values[o * per + k]));
    const s = max > 0 ? max / 127 : 1;
    scale[o] = s;
    for (let k = 0; k < per; k++) {
      q[o * per + k] = Math.max(-127, Math.min(127, Math.round(values[o * per + k] / s)));
    }
  }
  return { q, scale };
}

/** Conv → BatchNormalization (inference form) folded into the Conv: exact up to float rounding. */
function foldBatchNorm(g: GraphView): void {
  for (const bn of [...g.nodes]) {
    if (bn.opType !== 'BatchNormalization' || (bn.output ?? []).length !== 1) continue;
    const [x, sc, bb, mean, variance] = bn.input ?? [];
    const conv = x ? g.producer(x) : undefined;
    if (conv?.opType !== 'Conv' || g.soleConsumer(x) !== bn) continue;
    const [cx, wName, bName] = conv.input ?? [];
    const w = wName ? g.constant(wName) : undefined;
    const p = [sc, bb, mean, variance].map((t) => (t ? g.constant(t)?.values : undefined));
    const out = w?.dims[0] ?? 0;
    const bias = bName ? g.constant(bName)?.values : new Float32Array(out);
    if (!w || w.dims.length !== 4 || !bias || p.some((v) => v?.length !== out)) continue;
    const [gamma, beta, mu, v] = p as Float32Array[];
    const eps = attr(bn, 'epsilon')?.f ?? 1e-5;
    const per = w.values.length / out;
    const nw = new Float32Array(w.values.length);
    const nb = new Float32Array(out);
    for (let o = 0; o < out; o++) {
      const k = gamma[o] / Math.sqrt(v[o] + eps);
      for (let i = 0; i < per; i++) nw[o * per + i] = w.values[o * per + i] * k;
      nb[o] = (bias[o] - mu[o]) * k + beta[o];
    }
    const base = conv.name || x;
    conv.input = [cx, g.addConstant(`${base}_bnw`, w.dims, nw), g.addConstant(`${base}_bnb`, [out], nb)];
    conv.output = [...(bn.output ?? [])];
    g.remove(bn);
  }
  g.reindex();
}

function staticQuantize(g: GraphView, calibrated: Int8Ranges | undefined, denseOnly: boolean): number {
  if (!calibrated)
    throw new Error('int8 static quantisation needs calibrated ranges (onnxruntime.int8_calibration)');
  // ORT fuses the QDQ groups into ai.onnx QLinearConv (opset 10); below that the model fails to load.
  if (g.opset() < 10)
    throw new Error(`int8-qdq: the graph is at ai.onnx opset ${g.opset()}; lift it first (opset-11)`);
  const domain = g.opset() >= 13 ? '' : 'com.microsoft';
  let ranges: Int8Ranges = calibrated;
  const params = (t: string) => {
    const r = ranges[t];
    return r ? uint8Params(r[0], r[1]) : undefined;
  };
  // A Conv followed by BatchNormalization: ORT folds the two in float, but not across Q/DQ.
  foldBatchNorm(g);
  // The walk below meets producers first (earlier passes appended their new nodes).
  g.sortTopologically();

  // One (scale, zero point) pair per tensor, shared by its Q and DQ nodes.
  const qp = new Map<string, { scale: string; zp: string; value: number }>();
  const scalars = (t: string) => {
    let p = qp.get(t);
    if (!p) {
      const u = params(t) as { scale: number; zeroPoint: number };
      p = {
        scale: g.addConstant(`${t}_scale`, [], Float32Array.of(u.scale)),
        zp: g.addUint8(`${t}_zp`, [], Uint8Array.of(u.zeroPoint)),
        value: Math.fround(u.scale),
      };
      qp.set(t, p);
    }
    return p;
  };
  const added: NodeProto[] = [];
  const qdq = (from: string, to: string, p: { scale: string; zp: string }): void => {
    const q = g.freshName(`${to}_q`);
    added.push(
      { opType: 'QuantizeLinear', domain, input: [from, p.scale, p.zp], output: [q] },
      { opType: 'DequantizeLinear', domain, input: [q, p.scale, p.zp], output: [to] },
    );
  };
  // Tensor → its dequantised value: the tensor itself when a quantised node made it (its output
  // is re-created as DQ(Q(raw)), so every reader, quantised or not, reads the DQ'd value and ORT
  // sees DQ → op), else a Q/DQ copy made for a quantised reader.
  const dequantised = new Map<string, string>();
  const quantisedOutput = new Set<string>();
  const input = (x: string): string => {
    let xdq = dequantised.get(x);
    if (!xdq) {
      xdq = g.freshName(`${x}_dq`);
      qdq(x, xdq, scalars(x));
      dequantised.set(x, xdq);
    }
    return xdq;
  };
  // The DQ node that re-creates each quantised output, so an affine step after it can move in.
  const dqOf = new Map<string, NodeProto>();
  const output = (node: NodeProto): void => {
    const y = node.output?.[0] as string;
    const raw = g.freshName(`${y}_f`);
    node.output = [raw, ...(node.output ?? []).slice(1)];
    qdq(raw, y, scalars(y));
    dequantised.set(y, y);
    quantisedOutput.add(y);
    dqOf.set(y, added[added.length - 1]);
  };
  let three: string | undefined;
  const handled = new Set<NodeProto>();
  let count = 0;
  for (const node of [...g.nodes]) {
    if (handled.has(node) || (node.domain ?? '') !== '') continue;
    const [x, w, b] = node.input ?? [];
    const y = node.output?.[0];
    if (!x || !y) continue;
    if (node.opType === 'Conv') {
      // (ConvTranspose stays float: ORT 1.30 does not fuse its QDQ form, and DQ'd weights that
      // are not constants cost it its weight packing, 20× slower on the detector's head.)
      if (denseOnly && Number(attr(node, 'group')?.i ?? 1) !== 1) continue;
      const weight = w ? g.constant(w) : undefined;
      const bias = b ? g.constant(b)?.values : undefined;
      if (weight?.dims.length !== 4 || (b && bias?.length !== weight.dims[0]) || !params(x) || !params(y)) {
        continue;
      }
      const xdq = input(x);
      const out = weight.dims[0];
      const { q, scale } = perChannel(weight.values, out);
      const base = node.name || x;
      const wdq = g.freshName(`${base}_w_dq`);
      added.push({
        opType: 'DequantizeLinear',
        domain,
        input: [
          g.addInt8(`${base}_wq`, weight.dims, q),
          g.addConstant(`${base}_ws`, [out], scale),
          g.addInt8(`${base}_wzp`, [out], new Int8Array(out)),
        ],
        output: [wdq],
        attribute: [{ name: 'axis', type: 2, i: 0 }],
      });
      const inputs = [xdq, wdq];
      if (bias) {
        const xs = qp.get(x)?.value as number;
        const bscale = scale.map((s) => xs * s);
        const bq = Int32Array.from(bias, (v, o) =>
          Math.max(-2147483647, Math.min(2147483647, Math.round(v / bscale[o]))),
        );
        const bdq = g.freshName(`${base}_b_dq`);
        added.push({
          opType: 'DequantizeLinear',
          domain,
          input: [
            g.addInt32(`${base}_bq`, [out], bq),
            g.addConstant(`${base}_bs`, [out], bscale),
            g.addInt32(`${base}_bzp`, [out], new Int32Array(out)),
          ],
          output: [bdq],
          attribute: [{ name: 'axis', type: 2, i: 0 }],
        });
        inputs.push(bdq);
      }
      node.input = inputs;
      output(node);
      count++;
      continue;
    }
    if (node.opType === 'HardSigmoid' && quantisedOutput.has(x)) {
      // Hard-swish after a quantised op (fold.ts leaves u · HardSigmoid(u), alpha 1/6, beta
      // 1/2) becomes QDQ Add and Mul, which ORT runs as uint8 QLinearAdd and QLinearMul instead
      // of four float passes (DQ, HardSigmoid, Mul, Q): r = Q(u + 3) on [0, 6] (the saturation
      // is the clip), m = u · r = 6 · hswish(u), quantised with scale 6·s and dequantised with
      // s, which is the /6.
      const alpha = attr(node, 'alpha')?.f ?? 0.2;
      const beta = attr(node, 'beta')?.f ?? 0.5;
      const mul = g.soleConsumer(y);
      const z = mul?.output?.[0];
      const pz = z ? params(z) : undefined;
      const ins = mul?.input ?? [];
      if (
        Math.abs(alpha - 1 / 6) > 1e-6 ||
        Math.abs(beta - 0.5) > 1e-6 ||
        mul?.opType !== 'Mul' ||
        !z ||
        !pz ||
        !ins.includes(x)
      ) {
        continue;
      }
      if (!three) {
        three = g.freshName('three_dq');
        added.push({
          opType: 'DequantizeLinear',
          domain,
          input: [
            g.addUint8('three_q', [], Uint8Array.of(255)),
            g.addConstant('three_scale', [], Float32Array.of(3 / 255)),
            g.addUint8('three_zp', [], Uint8Array.of(0)),
          ],
          output: [three],
        });
      }
      const r = g.freshName(`${z}_relu6`);
      const rdq = g.freshName(`${z}_relu6_dq`);
      added.push({ opType: 'Add', input: [x, three], output: [r] });
      qdq(r, rdq, {
        scale: g.addConstant(`${z}_relu6_scale`, [], Float32Array.of(6 / 255)),
        zp: g.addUint8(`${z}_relu6_zp`, [], Uint8Array.of(0)),
      });
      g.remove(node);
      handled.add(mul);
      const m = g.freshName(`${z}_x6`);
      mul.input = [x, rdq];
      mul.output = [m];
      const sz = scalars(z);
      const mq = g.freshName(`${z}_x6_q`);
      added.push(
        {
          opType: 'QuantizeLinear',
          domain,
          input: [m, g.addConstant(`${z}_x6_scale`, [], Float32Array.of(6 * pz.scale)), sz.zp],
          output: [mq],
        },
        { opType: 'DequantizeLinear', domain, input: [mq, sz.scale, sz.zp], output: [z] },
      );
      dequantised.set(z, z);
      quantisedOutput.add(z);
      dqOf.set(z, added[added.length - 1]);
      continue;
    }
    if ((node.opType === 'Add' || node.opType === 'Mul') && (node.input ?? []).length === 2) {
      // What fold.ts could not fold of an affine block (x·k + c before a padded Conv) moves into
      // the DQ before it: ·k > 0 into its scale (exact), +c into its zero point (rounded to a
      // step, within the quantisation error). Float Adds here cost as much as the int8 Conv.
      const [a, c] = node.input as string[];
      const [v, k] = g.scalar(c) !== undefined ? [a, g.scalar(c)] : [c, g.scalar(a)];
      const dq = dqOf.get(v);
      const p = qp.get(v);
      if (k !== undefined && dq && p && g.soleConsumer(v) === node) {
        const zp = Number((ranges[v] ? params(v) : undefined)?.zeroPoint ?? NaN);
        const shift = node.opType === 'Add' ? Math.round(k / p.value) : 0;
        const ok = node.opType === 'Mul' ? k > 0 : zp - shift >= 0 && zp - shift <= 255;
        if (ok && Number.isFinite(zp)) {
          const scale = node.opType === 'Mul' ? Math.fround(p.value * k) : p.value;
          const moved = {
            scale: node.opType === 'Mul' ? g.addConstant(`${y}_scale`, [], Float32Array.of(scale)) : p.scale,
            zp: node.opType === 'Add' ? g.addUint8(`${y}_zp`, [], Uint8Array.of(zp - shift)) : p.zp,
            value: scale,
          };
          dq.input = [(dq.input ?? [])[0] as string, moved.scale, moved.zp];
          dq.output = [y];
          g.remove(node);
          qp.set(y, moved);
          ranges = { ...ranges, [y]: [(0 - (zp - shift)) * scale, (255 - (zp - shift)) * scale] };
          dequantised.set(y, y);
          quantisedOutput.add(y);
          dqOf.set(y, dq);
          continue;
        }
      }
    }
    if (node.opType === 'Relu' && quantisedOutput.has(x) && g.soleConsumer(x) === node && params(y)) {
      // Relu moves before the Q of its input, quantised on [0, max] (zero point 0), where ORT
      // folds it into the producer's output clamp (its ReluQuantFusion).
      const dq = dqOf.get(x) as NodeProto;
      const q = added.find((n) => n.opType === 'QuantizeLinear' && n.output?.[0] === dq.input?.[0]);
      if (q) {
        const raw = g.freshName(`${y}_f`);
        node.input = [(q.input ?? [])[0] as string];
        node.output = [raw];
        const p = scalars(y);
        q.input = [raw, p.scale, p.zp];
        dq.input = [(dq.input ?? [])[0] as string, p.scale, p.zp];
        dq.output = [y];
        dequantised.set(y, y);
        quantisedOutput.add(y);
        dqOf.set(y, dq);
        continue;
      }
    }
    if (node.opType === 'Resize' && quantisedOutput.has(x)) {
      // Resize keeps its input's scale and zero point: ORT then drops the Q/DQ around it and
      // resizes the uint8 values (an upsampled map 4× smaller than float).
      const raw = g.freshName(`${y}_f`);
      node.output = [raw];
      const p = qp.get(x) as { scale: string; zp: string; value: number };
      qdq(raw, y, p);
      qp.set(y, p);
      ranges = { ...ranges, [y]: ranges[x] as [number, number] };
      dequantised.set(y, y);
      quantisedOutput.add(y);
      dqOf.set(y, added[added.length - 1]);
      continue;
    }
    if (node.opType === 'Concat') {
      // Concat of quantised maps (the detector's neck) runs as uint8 QLinearConcat; in float
      // after ORT's NHWC layout it copied 24-channel chunks and took 40% of the int8 model.
      const ins = node.input ?? [];
      if (!ins.some((i) => quantisedOutput.has(i)) || !ins.every((i) => dequantised.has(i) || params(i)))
        continue;
      if (!params(y)) continue;
      node.input = ins.map(input);
      output(node);
      continue;
    }
    if (node.opType === 'Add' || node.opType === 'Mul') {
      // Elementwise ops over quantised values (residual adds, squeeze-excite scaling) run as
      // QLinearAdd / QLinearMul; ORT fuses a float Add into its float Conv, not across Q/DQ.
      const ins = node.input ?? [];
      if (
        ins.length !== 2 ||
        !ins.some((i) => quantisedOutput.has(i)) ||
        !ins.every((i) => dequantised.has(i) || params(i)) ||
        !params(y)
      ) {
        continue;
      }
      node.input = ins.map(input);
      output(node);
    }
  }
  g.nodes.push(...added);
  return count;
}

export const STATIC_QUANTIZE_RUN: Record<
  StaticQuantizePass,
  (g: GraphView, ctx: { int8Ranges?: Int8Ranges }) => number
> = {
  'int8-qdq': (g, ctx) => staticQuantize(g, ctx.int8Ranges, false),
  'int8-qdq-dense': (g, ctx) => staticQuantize(g, ctx.int8Ranges, true),
};
