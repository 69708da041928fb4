/**
 * Graph rewrites by name (config `onnxruntime.graph_rewrites`): the exact folds (fold.ts), the
 * opset lift (opset.ts), the int8 dynamic quantisation passes (quantize.ts) and the static (QDQ,
 * calibrated) ones (quantize-static.ts), applied in the order given to the decoded model.
 */
import { FOLD_PASSES, FOLD_RUN, type FoldPass } from './fold.js';
import { GraphView } from './graph.js';
import { opset11 } from './opset.js';
import { QUANTIZE_PASSES, QUANTIZE_RUN, type QuantizePass } from './quantize.js';
import {
  STATIC_QUANTIZE_PASSES,
  STATIC_QUANTIZE_RUN,
  type Int8Ranges,
  type StaticQuantizePass,
} from './quantize-static.js';

export type RewritePass = FoldPass | QuantizePass | StaticQuantizePass | 'opset-11';
export const REWRITE_PASSES: readonly RewritePass[] = [
  ...FOLD_PASSES,
  'opset-11',
  ...QUANTIZE_PASSES,
  ...STATIC_QUANTIZE_PASSES,
];

/** What passes may read besides the graph: calibrated activation ranges for the static int8 ones. */
export interface RewriteContext {
  int8Ranges?: Int8Ranges;
}

const RUN: Record<RewritePass, (g: GraphView, ctx: RewriteContext) => number> = {
  ...FOLD_RUN,
  ...QUANTIZE_RUN,
  ...STATIC_QUANTIZE_RUN,
  'opset-11': opset11,
};

/** Applies the passes in order; returns the rewritten model and how many sites each pass changed. */
export function rewriteModel(
  bytes: Uint8Array,
  passes: readonly RewritePass[] = FOLD_PASSES,
  ctx: RewriteContext = {},
): { model: Uint8Array; changed: Record<string, number> } {
  const g = new GraphView(bytes);
  const changed: Record<string, number> = {};
  for (const p of passes) {
    changed[p] = RUN[p](g, ctx);
    g.reindex();
  }
  // New nodes were appended; ONNX wants each node after the producers of its inputs.
  g.sortTopologically();
  return { model: g.encode(), changed };
}
