/**
 * What the per-model OCR benchmarks (int8.ts, int8-static.ts) share: the shapes one 1280×960 page
 * gives each model, CPU ms of one pass over them, variants timed alternately, and the pipeline's
 * CER with some models' passes replaced.
 */
import ort from 'onnxruntime-node';
import { FOLD_PASSES } from '../../src/runtime/onnx/rewrite/fold.js';
import type { RewritePass } from '../../src/runtime/onnx/rewrite/passes.js';
import { corpusCer } from '../../test/ocr/helpers/render.js';
import { OrtInvoker, loadOcrPipeline, readConfig, runOcr } from '../../test/ocr/helpers/ort-invoker.js';

/** det [1,3,704,960]; rec the page's 24 lines as its 13 width-bucketed batches. */
export const PAGE_SHAPES: Record<string, number[][]> = {
  'ocr-det': [[1, 3, 704, 960]],
  'ocr-rec': [128, 192, 256, 320, 704, 768, 832, 896, 960, 1024].map((w, i) => [
    [3, 5, 2, 1, 1, 1, 3, 3, 3, 2][i]!,
    3,
    48,
    w,
  ]),
};

export const median = (v: number[]): number => [...v].sort((a, b) => a - b)[v.length >> 1]!;

const INPUTS = new Map<number[][], ort.Tensor[]>();
function inputs(shapes: number[][]): ort.Tensor[] {
  let list = INPUTS.get(shapes);
  if (!list) {
    list = shapes.map((shape) => {
      const data = new Float32Array(shape.reduce((a, b) => a * b, 1)).map((_, i) => Math.sin(i) * 0.5);
      return new ort.Tensor('float32', data, shape);
    });
    INPUTS.set(shapes, list);
  }
  return list;
}

/** CPU ms of this process (ORT's threads are in it) for one pass over the shapes: the work done,
 * which other jobs on a shared machine disturb far less than wall time. */
export async function cpuMsPerPass(s: ort.InferenceSession, shapes: number[][]): Promise<number> {
  const t0 = process.cpuUsage();
  for (const x of inputs(shapes)) await s.run({ x });
  const used = process.cpuUsage(t0);
  return (used.user + used.system) / 1000;
}

/** Per session, `reps` passes timed alternately (order reversed every other rep), after one untimed pass each. */
export async function timeAlternately(
  sessions: ort.InferenceSession[],
  shapes: number[][],
  reps: number,
): Promise<number[][]> {
  const times: number[][] = sessions.map(() => []);
  for (const s of sessions) await cpuMsPerPass(s, shapes);
  for (let r = 0; r < reps; r++) {
    for (let i = 0; i < sessions.length; i++) {
      const k = r % 2 === 0 ? i : sessions.length - 1 - i;
      times[k]!.push(await cpuMsPerPass(sessions[k]!, shapes));
    }
  }
  return times;
}

/** The float baseline of a model: its config's exact passes (its int8 ones dropped). */
export function floatPasses(name: string): RewritePass[] {
  const passes = (readConfig(name).onnxruntime as { graph_rewrites?: RewritePass[] } | undefined)
    ?.graph_rewrites;
  return (passes ?? []).filter((p) => (FOLD_PASSES as readonly string[]).includes(p));
}

/**
 * The pipeline's CER over `pages`, its models loaded with `opts` (OrtInvoker.create's) on top of
 * the float ones: only the models `opts.passes` names differ from float.
 */
export async function pipelineCer(
  opts: Parameters<typeof OrtInvoker.create>[2],
  pages: { bytes: Buffer; text: string }[],
): Promise<string> {
  const invoker = await OrtInvoker.create(undefined, undefined, { ...opts, float: true });
  const ocr = await loadOcrPipeline(invoker);
  const { percent } = await corpusCer(pages, async (bytes) => (await runOcr(ocr, bytes)).text);
  await invoker.release();
  return `${percent.toFixed(2)}%`;
}
