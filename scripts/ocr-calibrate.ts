/**
 * Calibrates the OCR models for int8 static quantisation (runtime/onnx/rewrite/quantize-static.ts):
 * renders held-out pages (test/ocr/helpers/held-out-pages.ts, a seed of their own, so neither the
 * benchmark page nor the rendered evaluation set is seen), runs them through the OCR pipeline
 * with the float models to record what ocr-det and ocr-rec are really fed (det: the resized
 * pages; rec: the pipeline's crops, in its batches), then runs each float model (its config's
 * graph_rewrites applied) on those inputs with every Conv's input and output added as graph outputs,
 * and writes the [min, max] seen per tensor to models/<name>/int8-ranges.json.
 *
 * The tensor names are those of the rewritten graph, so the file holds for the graph_rewrites
 * it records (listed in the file); after changing those passes, calibrate again.
 *
 *   node dist/scripts/ocr-calibrate.js [--pages 16 --seed 2026 --models models]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import onnxProto from 'onnx-proto';
import ort from 'onnxruntime-node';
import type { InferenceRequest, InferenceResponse } from '../src/core/tensor.js';
import { resolveConfigPath } from '../src/runtime/npm-path.js';
import { rewriteModel, type RewritePass } from '../src/runtime/onnx/rewrite/passes.js';
import { renderHeldOutPages } from '../test/ocr/helpers/held-out-pages.js';
import { OrtInvoker, REPO, loadOcrPipeline, readConfig, runOcr } from '../test/ocr/helpers/ort-invoker.js';

const { values: flags } = parseArgs({
  options: {
    pages: { type: 'string', default: '16' },
    seed: { type: 'string', default: '2026' },
    models: { type: 'string', default: REPO },
    /** minmax: the extremes over all inputs; mean: the mean of each input's extremes (clips outliers). */
    method: { type: 'string', default: 'minmax' },
  },
});
const PAGES = Number(flags.pages);
const SEED = Number(flags.seed);
const MODELS = ['ocr-det', 'ocr-rec'];
const CALIBRATED = new Set([
  'Conv',
  'BatchNormalization',
  'Add',
  'Mul',
  'HardSigmoid',
  'Relu',
  'Resize',
  'Concat',
]);

/** Passes the requests on and keeps a copy of each model's input tensor. */
const recorded = new Map<string, { data: Float32Array; shape: number[] }[]>(MODELS.map((m) => [m, []]));
const inner = await OrtInvoker.create();
const recorder = {
  infer(request: InferenceRequest): Promise<InferenceResponse> {
    const list = recorded.get(request.modelName);
    const x = request.inputs[0];
    if (list && x) list.push({ data: Float32Array.from(x.data as Float32Array), shape: [...x.shape] });
    return inner.infer(request);
  },
};
const ocr = await loadOcrPipeline(recorder);
const pages = await renderHeldOutPages(PAGES, SEED);
for (const p of pages) await runOcr(ocr, p.bytes);
await inner.release();

for (const name of MODELS) {
  const cfg = readConfig(name);
  const file = resolveConfigPath(cfg.default_model_filename, join(REPO, name, '1'));
  const passes = (cfg.onnxruntime as { graph_rewrites?: RewritePass[] } | undefined)?.graph_rewrites ?? [];
  const model = onnxProto.onnx.ModelProto.decode(rewriteModel(readFileSync(file), passes).model);
  const graph = model.graph as onnxProto.onnx.GraphProto;
  const tensors = new Set<string>();
  // The float outputs of every op the pass may quantise or read (and every Conv's input).
  const first = (list: string[] | null | undefined): string => (list ?? [])[0] ?? '';
  for (const n of graph.node) {
    if (n.opType === 'Conv') tensors.add(first(n.input));
    if (CALIBRATED.has(n.opType ?? '')) tensors.add(first(n.output));
  }
  const declared = new Set(graph.output.map((o) => o.name));
  for (const t of tensors) {
    if (!declared.has(t)) graph.output.push(onnxProto.onnx.ValueInfoProto.create({ name: t }));
  }
  const session = await ort.InferenceSession.create(onnxProto.onnx.ModelProto.encode(model).finish(), {
    intraOpNumThreads: 1,
  });
  const ranges: Record<string, [number, number]> = {};
  const sums: Record<string, [number, number]> = {};
  const inputs = recorded.get(name) ?? [];
  for (const x of inputs) {
    const out = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', x.data, x.shape) });
    for (const t of tensors) {
      const v = out[t].data;
      if (!(v instanceof Float32Array)) continue; // shape arithmetic (int64 Concat in rec)
      let lo = Infinity;
      let hi = -Infinity;
      for (let i = 0; i < v.length; i++) {
        if (v[i] < lo) lo = v[i];
        if (v[i] > hi) hi = v[i];
      }
      const r = ranges[t];
      ranges[t] = r ? [Math.min(r[0], lo), Math.max(r[1], hi)] : [lo, hi];
      const m = sums[t] ?? [0, 0];
      sums[t] = [m[0] + lo, m[1] + hi];
    }
  }
  if (flags.method === 'mean') {
    for (const [t, [lo, hi]] of Object.entries(sums)) ranges[t] = [lo / inputs.length, hi / inputs.length];
  }
  await session.release();
  const round = (v: number): number => Number(v.toPrecision(6));
  const out = join(flags.models, name, 'int8-ranges.json');
  writeFileSync(
    out,
    `${JSON.stringify(
      {
        about: `activation [min, max] per tensor for int8-qdq (scripts/ocr-calibrate.ts; ${PAGES} held-out pages, seed ${SEED}, ${inputs.length} ${name} inputs, ${flags.method})`,
        model: cfg.default_model_filename,
        graph_rewrites: passes,
        ranges: Object.fromEntries(
          Object.entries(ranges)
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([t, [lo, hi]]) => [t, [round(lo), round(hi)]]),
        ),
      },
      null,
      1,
    )}\n`,
  );
  console.log(`${name}: ${inputs.length} inputs, ${Object.keys(ranges).length} tensors → ${out}`);
}
