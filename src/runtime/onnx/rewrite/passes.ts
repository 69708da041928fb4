/**
 * Graph rewrites by name (config `onnxruntime.graph_rewrites`): the exact folds (fold.ts), the
 * opset lift (opset.ts) and the int8 dynamic quantisation passes (quantize.ts), applied in the
 * order given to the decoded model.
 */
import { FOLD_PASSES, FOLD_RUN, type FoldPass } from './fold.js';
import { GraphView, type NodeProto } from './graph.js';
import { opset11 } from './opset.js';
import { QUANTIZE_PASSES, QUANTIZE_RUN, type QuantizePass } from './quantize.js';

export type RewritePass = FoldPass | QuantizePass | 'opset-11';
export const REWRITE_PASSES: readonly RewritePass[] = [...FOLD_PASSES, 'opset-11', ...QUANTIZE_PASSES];
const RUN: Record<RewritePass, (g: GraphView) => number> = {
  ...FOLD_RUN,
  ...QUANTIZE_RUN,
  'opset-11': opset11,
};

/** Applies the passes in order; returns the rewritten model and how many sites each pass changed. */
export function rewriteModel(
  bytes: Uint8Array,
  passes: readonly RewritePass[] = FOLD_PASSES,
): { model: Uint8Array; changed: Record<string, number> } {
  const g = new GraphView(bytes);
  const changed: Record<string, number> = {};
  for (const p of passes) {
    changed[p] = RUN[p](g);
    g.reindex();
  }
  // New nodes were appended; ONNX wants each node after the producers of its inputs.
  topoSort(g);
  return { model: g.encode(), changed };
}

/** Orders nodes so each comes after the producers of its inputs (stable for the rest). */
function topoSort(g: GraphView): void {
  const graph = g.graph;
  const known = new Set<string>([
    ...graph.input.map((i) => i.name as string),
    ...graph.initializer.map((t) => t.name as string),
    '',
  ]);
  let pending = [...graph.node];
  const ordered: NodeProto[] = [];
  while (pending.length > 0) {
    const rest: NodeProto[] = [];
    for (const n of pending) {
      if ((n.input ?? []).every((x: string) => known.has(x))) {
        ordered.push(n);
        for (const o of n.output ?? []) known.add(o);
      } else rest.push(n);
    }
    if (rest.length === pending.length) {
      throw new Error(`graph has a cycle or a missing input at node '${rest[0].name ?? rest[0].opType}'`);
    }
    pending = rest;
  }
  graph.node = ordered as typeof graph.node;
}
