/**
 * Exact (up to float rounding) rewrites of paddle2onnx graphs that ONNX Runtime does not do itself.
 * PP-LCNetV3 (the PP-OCRv4 rec and det backbone) follows every conv with a "learnable affine block"
 * (x·s + b, scalar s and b), a hard-swish spelled as four elementwise ops (opset 9 has no HardSwish),
 * and another affine block: nine full passes over each activation for one conv. Profiled on the rec
 * model, those elementwise ops took about half of its time and the layout reorders around them
 * another tenth (bench/results/ocr-speed.md). The passes:
 *
 * - `affine-into-conv`: Conv → Mul(s) → Add(b) becomes one Conv with W·s and B·s + b;
 * - `hard-swish`: Add(u, 3) → Clip(0, 6) → Mul(u, ·) → Div(·, 6) becomes Mul(u, HardSigmoid(u))
 *   with alpha 1/6 and beta 0.5 (the same function, two ops instead of four);
 * - `scale-into-next-conv`: Mul(s) → [Add(b)] → Conv folds s into the next conv's weights
 *   (conv(W, s·h) = conv(W·s, h), zero padding included); b goes into the bias when the conv has no
 *   padding (conv(W, h + b) = conv(W, h) + b·ΣW), is dropped when 0, else stays as Add(h, b/s).
 */
import { type GraphView, attr, intsAttr, type NodeProto } from './graph.js';

export type FoldPass = 'hard-swish' | 'affine-into-conv' | 'scale-into-next-conv';
export const FOLD_PASSES: readonly FoldPass[] = ['hard-swish', 'affine-into-conv', 'scale-into-next-conv'];

/** The other input of a binary node whose one input is a scalar constant, with that scalar. */
function scalarOperand(g: GraphView, n: NodeProto): { other: string; value: number } | undefined {
  const [a, b] = n.input ?? [];
  if (!a || !b) return undefined;
  const sb = g.scalar(b);
  if (sb !== undefined && g.scalar(a) === undefined) return { other: a, value: sb };
  const sa = g.scalar(a);
  if (sa !== undefined && sb === undefined) return { other: b, value: sa };
  return undefined;
}

function convWeights(g: GraphView, conv: NodeProto) {
  const [, w, b] = conv.input ?? [];
  const weight = w ? g.constant(w) : undefined;
  if (!weight || weight.dims.length !== 4) return undefined;
  const out = weight.dims[0];
  let bias = new Float32Array(out);
  if (b) {
    const c = g.constant(b);
    if (!c || c.values.length !== out) return undefined;
    bias = Float32Array.from(c.values);
  }
  return {
    dims: weight.dims,
    w: Float32Array.from(weight.values),
    bias,
    out,
    per: weight.values.length / out,
  };
}

function setConvWeights(g: GraphView, conv: NodeProto, dims: number[], w: Float32Array, bias: Float32Array) {
  const name = conv.name || conv.output?.[0] || 'conv';
  conv.input = [
    conv.input?.[0] as string,
    g.addConstant(`${name}_w`, dims, w),
    g.addConstant(`${name}_b`, [dims[0]], bias),
  ];
}

function hardSwish(g: GraphView): number {
  let count = 0;
  for (const add of [...g.nodes]) {
    if (add.opType !== 'Add') continue;
    const three = scalarOperand(g, add);
    if (!three || three.value !== 3) continue;
    const u = three.other;
    const clip = g.soleConsumer(add.output?.[0] as string);
    if (clip?.opType !== 'Clip') continue;
    const min = clip.input?.[1] ? g.scalar(clip.input[1]) : attr(clip, 'min')?.f;
    const max = clip.input?.[2] ? g.scalar(clip.input[2]) : attr(clip, 'max')?.f;
    if (min !== 0 || max !== 6) continue;
    const mul = g.soleConsumer(clip.output?.[0] as string);
    if (mul?.opType !== 'Mul' || !(mul.input ?? []).includes(u)) continue;
    const div = g.soleConsumer(mul.output?.[0] as string);
    if (
      div?.opType !== 'Div' ||
      div.input?.[0] !== mul.output?.[0] ||
      g.scalar(div.input?.[1] as string) !== 6
    )
      continue;
    const hs = `${div.output?.[0]}__hsig`;
    for (const n of [add, clip, mul, div]) g.remove(n);
    g.nodes.push(
      {
        opType: 'HardSigmoid',
        name: `${div.name ?? hs}_hsig`,
        input: [u],
        output: [hs],
        attribute: [
          { name: 'alpha', type: 1, f: 1 / 6 },
          { name: 'beta', type: 1, f: 0.5 },
        ],
      },
      {
        opType: 'Mul',
        name: `${div.name ?? hs}_hswish`,
        input: [u, hs],
        output: [div.output?.[0] as string],
      },
    );
    count++;
  }
  return count;
}

function affineIntoConv(g: GraphView): number {
  let count = 0;
  for (const conv of [...g.nodes]) {
    if (conv.opType !== 'Conv') continue;
    const mul = g.soleConsumer(conv.output?.[0] as string);
    const scale = mul?.opType === 'Mul' ? scalarOperand(g, mul) : undefined;
    const cw = scale ? convWeights(g, conv) : undefined;
    if (!mul || !scale || !cw) continue;
    let last = mul;
    let shift = 0;
    const add = g.soleConsumer(mul.output?.[0] as string);
    const b = add?.opType === 'Add' ? scalarOperand(g, add) : undefined;
    if (add && b) {
      shift = b.value;
      last = add;
    }
    for (let i = 0; i < cw.w.length; i++) cw.w[i] *= scale.value;
    for (let o = 0; o < cw.out; o++) cw.bias[o] = cw.bias[o] * scale.value + shift;
    setConvWeights(g, conv, cw.dims, cw.w, cw.bias);
    conv.output = [last.output?.[0] as string];
    g.remove(mul);
    if (last !== mul) g.remove(last);
    count++;
  }
  return count;
}

function scaleIntoNextConv(g: GraphView): number {
  let count = 0;
  for (const mul of [...g.nodes]) {
    if (mul.opType !== 'Mul') continue;
    const scale = scalarOperand(g, mul);
    if (!scale || scale.value === 0) continue;
    const h = scale.other;
    const next = g.soleConsumer(mul.output?.[0] as string);
    const b = next?.opType === 'Add' ? scalarOperand(g, next) : undefined;
    const add = b ? next : undefined;
    const conv = g.soleConsumer((add ?? mul).output?.[0] as string);
    if (conv?.opType !== 'Conv' || conv.input?.[0] !== (add ?? mul).output?.[0]) continue;
    const cw = convWeights(g, conv);
    if (!cw) continue;
    const unpadded =
      (intsAttr(conv, 'pads') ?? [0]).every((p) => p === 0) && !attr(conv, 'auto_pad')?.s?.length;
    const shift = b?.value ?? 0;
    if (shift !== 0 && unpadded) {
      for (let o = 0; o < cw.out; o++) {
        let sum = 0;
        for (let k = 0; k < cw.per; k++) sum += cw.w[o * cw.per + k];
        cw.bias[o] += shift * sum;
      }
    }
    for (let i = 0; i < cw.w.length; i++) cw.w[i] *= scale.value;
    setConvWeights(g, conv, cw.dims, cw.w, cw.bias);
    g.remove(mul);
    if (add && (shift === 0 || unpadded)) {
      g.remove(add);
      conv.input = [h, ...(conv.input ?? []).slice(1)];
    } else if (add) {
      add.input = [h, g.addConstant(`${add.name || 'add'}_shift`, [], Float32Array.of(shift / scale.value))];
    } else {
      conv.input = [h, ...(conv.input ?? []).slice(1)];
    }
    count++;
  }
  return count;
}

/** The passes by name, in the order `FOLD_PASSES` lists them. */
export const FOLD_RUN: Record<FoldPass, (g: GraphView) => number> = {
  'hard-swish': hardSwish,
  'affine-into-conv': affineIntoConv,
  'scale-into-next-conv': scaleIntoNextConv,
};
