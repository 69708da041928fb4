/**
 * int8 static (QDQ, calibrated) quantisation of the OCR models against their float rewrites, per
 * model: size, CPU ms of one pass over the 1280×960 page's shapes (det [1,3,704,960]; rec its 13
 * width-bucketed batches), the pipeline's CER with only that model changed (the page and the
 * rendered test set), and the kernels ONNX Runtime ran (its profile: share of kernel time per op).
 *
 * Float = the committed config's passes; int8 variants add `opset-11` (rec is opset 9) and
 * `int8-qdq` (every Conv) or `int8-qdq-dense` (group-1 Convs only), with the ranges of
 * models/<name>/int8-ranges.json (scripts/ocr-calibrate.ts, held-out pages: neither the page nor
 * the set). Sessions run 1 intra-op thread with spinning off and are timed alternately in one run;
 * CPU time of the process (ORT's threads are in it) is the measure, which other jobs on a shared
 * machine disturb far less than wall time. Run it under `nice -n 19` on a shared machine.
 *
 * Usage (after the build): node dist/bench/ocr/int8-static.js [reps] [--no-cer] [--models ocr-rec]
 *   [--ranges dir-with-<model>/int8-ranges.json]
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import ort from 'onnxruntime-node';
import { rewriteModel, type RewritePass } from '../../src/runtime/onnx/rewrite/passes.js';
import type { Int8Ranges } from '../../src/runtime/onnx/rewrite/quantize-static.js';
import { resolveConfigPath } from '../../src/runtime/npm-path.js';
import { renderedSet } from '../../test/ocr/helpers/dataset.js';
import { OrtInvoker, REPO, loadOcrPipeline, readConfig, runOcr } from '../../test/ocr/helpers/ort-invoker.js';
import { cerParts } from '../../test/ocr/helpers/render.js';
import { documentText, renderDocument } from './document.js';

const { values: flags, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    'no-cer': { type: 'boolean', default: false },
    models: { type: 'string', default: 'ocr-det,ocr-rec' },
    /** Where <model>/int8-ranges.json are read from (default: the model repository). */
    ranges: { type: 'string', default: REPO },
  },
});
const reps = Number(positionals[0] ?? 5);
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
const OPTIONS: ort.InferenceSession.SessionOptions = {
  intraOpNumThreads: 1,
  graphOptimizationLevel: 'all',
  extra: { session: { intra_op: { allow_spinning: '0' } } },
};

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

async function timeOnce(s: ort.InferenceSession, shapes: number[][]): Promise<number> {
  const t0 = process.cpuUsage();
  for (const x of inputs(shapes)) await s.run({ x });
  const used = process.cpuUsage(t0);
  return (used.user + used.system) / 1000;
}

/** The pipeline's CER over `pages` with the given models' passes replaced. */
async function cer(
  opts: { passes: Record<string, RewritePass[]>; int8Ranges: Record<string, Int8Ranges> },
  pages: { bytes: Buffer; text: string }[],
): Promise<string> {
  const invoker = await OrtInvoker.create(undefined, undefined, opts);
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

/** Share of kernel time per op type in the second profiled pass over the shapes (top few). */
async function kernels(model: Uint8Array, shapes: number[][]): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'inferd-int8-prof-'));
  const s = await ort.InferenceSession.create(model, {
    ...OPTIONS,
    enableProfiling: true,
    profileFilePrefix: join(dir, 'p'),
  });
  await timeOnce(s, shapes); // first runs allocate and pack weights: not counted
  await timeOnce(s, shapes);
  s.endProfiling();
  await s.release();
  const file = readdirSync(dir).find((f) => f.endsWith('.json'));
  const events = file
    ? (JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
        cat: string;
        name: string;
        ts: number;
        dur: number;
        args?: { op_name?: string };
      }[])
    : [];
  const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').map((e) => e.ts);
  const from = runs.sort((a, b) => a - b)[shapes.length] ?? 0;
  rmSync(dir, { recursive: true, force: true });
  const by = new Map<string, number>();
  let total = 0;
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time') || e.ts < from) continue;
    const op = e.args?.op_name ?? '?';
    by.set(op, (by.get(op) ?? 0) + e.dur);
    total += e.dur;
  }
  return [...by.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 6)
    .map(([op, d]) => `${op} ${Math.round((100 * d) / total)}%`)
    .join(', ');
}

const page = [{ bytes: await renderDocument(), text: documentText() }];
const set = (await renderedSet()).map((c) => ({ bytes: c.bytes, text: c.lines.join('\n') }));
console.log(
  '| model | variant | int8 convs | size MB | CPU ms (median) | CPU / float | CER page | CER set | kernels (share of kernel time) |',
);
console.log('|---|---|---|---|---|---|---|---|---|');
for (const name of flags.models.split(',')) {
  const cfg = readConfig(name);
  const file = resolveConfigPath(cfg.default_model_filename, join(REPO, name, '1'));
  const base = (cfg.onnxruntime as { graph_rewrites?: RewritePass[] } | undefined)?.graph_rewrites ?? [];
  const int8Ranges = (
    JSON.parse(readFileSync(join(flags.ranges, name, 'int8-ranges.json'), 'utf8')) as { ranges: Int8Ranges }
  ).ranges;
  const variants = [
    { variant: 'float', passes: base },
    { variant: 'int8-qdq', passes: [...base, 'opset-11', 'int8-qdq'] as RewritePass[] },
    { variant: 'int8-qdq-dense', passes: [...base, 'opset-11', 'int8-qdq-dense'] as RewritePass[] },
  ].map((v) => ({ ...v, ...rewriteModel(readFileSync(file), v.passes, { int8Ranges }) }));
  const sessions = await Promise.all(variants.map((v) => ort.InferenceSession.create(v.model, OPTIONS)));
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
    const sites = v.changed['int8-qdq'] ?? v.changed['int8-qdq-dense'] ?? '-';
    const ctx = { passes: { [name]: v.passes }, int8Ranges: { [name]: int8Ranges } };
    const cers = flags['no-cer'] ? ['-', '-'] : [await cer(ctx, page), await cer(ctx, set)];
    console.log(
      `| ${name} | ${v.variant} | ${sites} | ${(v.model.length / 1e6).toFixed(2)} | ${median(times[i]).toFixed(0)} | ${(median(times[i]) / median(times[0])).toFixed(2)} | ${cers[0]} | ${cers[1]} | ${await kernels(v.model, SHAPES[name])} |`,
    );
  }
}
