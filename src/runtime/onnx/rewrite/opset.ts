/**
 * `opset-11`: lifts an ai.onnx opset 9 or 10 graph to 11, so that passes needing newer ops (int8
 * `DynamicQuantizeLinear`) can run on paddle2onnx exports such as PP-OCRv4 rec (opset 9). Between
 * 9 and 11 only a few operators changed meaning; Clip (min/max attributes → inputs) and Slice
 * (starts/ends/axes attributes → inputs) are rewritten, a graph with any other changed operator
 * is refused rather than silently changed.
 */
import { type GraphView, attr, intsAttr } from './graph.js';

/** Operators whose opset 10/11 definitions differ from 9 in a way this pass does not rewrite. */
const CHANGED = new Set(['Pad', 'TopK', 'Upsample', 'Resize', 'Scatter', 'Dropout']);

export function opset11(g: GraphView): number {
  const from = g.opset();
  if (from >= 11) return 0;
  if (from < 9) throw new Error(`opset-11: the graph is at ai.onnx opset ${from}, only 9 and 10 are lifted`);
  const unknown = g.nodes.find((n) => (n.domain ?? '') === '' && CHANGED.has(n.opType as string));
  if (unknown)
    throw new Error(`opset-11: operator ${unknown.opType} changed after opset ${from}; not lifted`);
  let count = 0;
  for (const n of g.nodes) {
    if ((n.domain ?? '') !== '') continue;
    if (n.opType === 'Clip') {
      const min = attr(n, 'min');
      const max = attr(n, 'max');
      const lo = min ? g.addConstant('clip_min', [], Float32Array.of(min.f ?? 0)) : '';
      const hi = max ? g.addConstant('clip_max', [], Float32Array.of(max.f ?? 0)) : '';
      n.input = [n.input?.[0] as string, lo, ...(hi ? [hi] : [])];
      n.attribute = [];
      count++;
    } else if (n.opType === 'Slice' && from === 9) {
      const starts = intsAttr(n, 'starts') ?? [];
      const ends = intsAttr(n, 'ends') ?? [];
      const axes = intsAttr(n, 'axes');
      n.input = [
        n.input?.[0] as string,
        g.addInt64('slice_starts', starts),
        g.addInt64('slice_ends', ends),
        ...(axes ? [g.addInt64('slice_axes', axes)] : []),
      ];
      n.attribute = [];
      count++;
    }
  }
  g.useOpset('', 11);
  return count;
}
