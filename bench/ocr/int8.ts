/**
 * The OCR models as shipped, with the exact rewrites (the committed configs: "float") and with
 * int8 dynamic quantisation on top, measured per model: size, median run time on the
 * shapes the 1280×960 page gives (det [1,3,704,960]; rec its 13 width-bucketed batches), and the
 * pipeline's CER with that model quantised (the page and the rendered test set). Float and int8
 * sessions are timed alternately in one run (shared machine). Float = the committed config's
 * passes; int8 = those plus `opset-11` (rec is opset 9), `int8-conv` and `int8-matmul` (runtime/onnx/rewrite/quantize.ts).
 *
 * Usage (after `npm run build`): node dist/bench/ocr/int8.js [reps]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { rewriteModel, type RewritePass } from '../../src/runtime/onnx/rewrite/passes.js';
import { resolveConfigPath } from '../../src/runtime/npm-path.js';
import { renderedSet } from '../../test/ocr/helpers/dataset.js';
import { OrtInvoker, REPO, loadOcrPipeline, readConfig, runOcr } from '../../test/ocr/helpers/ort-invoker.js';
import { cerParts } from '../../test/ocr/helpers/render.js';
import { documentText, renderDocument } from './document.js';

const reps = Number(process.argv[2] ?? 5);
const INT8: RewritePass[] = ['opset-11', 'int8-conv', 'int8-matmul'];
const SHAPES: Record<string, number[][]> = {
  'ocr-det': [[1, 3, 704, 960]],
  'ocr-rec': [128, 192, 256, 320, 704, 768, 832, 896, 960, 1024].map((w, i) => [
    [3, 5, 2, 1, 1, 1, 3, 3, 3, 2][i],
    3,
    48,
    w,
  ]),
};
const median = (v: number[]): number => [...v].sort((a, b) => a - b)[v.length >> 1];

async function session(bytes: Uint8Array): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(bytes, { extra: { session: { intra_op: { allow_spinning: '0' } } } });
}

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
async function timeOnce(s: ort.InferenceSession, shapes: number[][]): Promise<number> {
  const t0 = process.cpuUsage();
  for (const x of inputs(shapes)) await s.run({ x });
  const used = process.cpuUsage(t0);
  return (used.user + used.system) / 1000;
}

async function cer(
  passes: Record<string, RewritePass[]>,
  pages: { bytes: Buffer; text: string }[],
): Promise<string> {
  const invoker = await OrtInvoker.create(undefined, undefined, { passes });
  const ocr = await loadOcrPipeline(invoker);
  let edits = 0;
  let length = 0;
  for (const p of pages) {
    const part = cerParts(p.text, (await runOcr(ocr, p.bytes)).text);
    edits += part.edits;
    length += part.length;
  }
  await invoker.release();
  return `${((100 * edits) / length).toFixed(2)}%`;
}

const page = [{ bytes: await renderDocument(), text: documentText() }];
const set = (await renderedSet()).map((c) => ({ bytes: c.bytes, text: c.lines.join('\n') }));
console.log(
  '| model | variant | int8 sites | size MB | CPU ms (median) | CPU / shipped | CER page | CER set |',
);
console.log('|---|---|---|---|---|---|---|---|');
for (const name of ['ocr-det', 'ocr-rec']) {
  const cfg = readConfig(name);
  const file = resolveConfigPath(cfg.default_model_filename, join(REPO, name, '1'));
  const base = (cfg.onnxruntime as { graph_rewrites?: RewritePass[] } | undefined)?.graph_rewrites ?? [];
  const variants = [
    { variant: 'shipped', passes: [] as RewritePass[] },
    { variant: 'float', passes: base },
    { variant: 'int8', passes: [...base, ...INT8] },
  ].map((v) => ({ ...v, ...rewriteModel(readFileSync(file), v.passes) }));
  const sessions = await Promise.all(variants.map((v) => session(v.model)));
  const times: number[][] = variants.map(() => []);
  for (const s of sessions) await timeOnce(s, SHAPES[name]);
  for (let r = 0; r < reps; r++) {
    for (let i = 0; i < sessions.length; i++) {
      const k = r % 2 === 0 ? i : sessions.length - 1 - i;
      times[k].push(await timeOnce(sessions[k], SHAPES[name]));
    }
  }
  for (const s of sessions) await s.release();
  for (let i = 0; i < variants.length; i++) {
    const v = variants[i];
    const quantised = v.passes
      .filter((p) => INT8.includes(p) && p !== 'opset-11')
      .map((p) => `${p} ${v.changed[p]}`);
    console.log(
      `| ${name} | ${v.variant} | ${quantised.join(', ') || '-'} | ${(v.model.length / 1e6).toFixed(2)} | ${median(times[i]).toFixed(0)} | ${(median(times[i]) / median(times[0])).toFixed(2)} | ${await cer({ [name]: v.passes }, page)} | ${await cer({ [name]: v.passes }, set)} |`,
    );
  }
}
