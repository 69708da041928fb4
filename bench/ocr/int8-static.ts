/**
 * int8 static (QDQ, calibrated) quantisation of the OCR models against their float rewrites, per
 * model: size, CPU ms of one pass over the 1280×960 page's shapes (det [1,3,704,960]; rec its 13
 * width-bucketed batches), the pipeline's CER with only that model changed (the page and the
 * rendered test set), and the kernels ONNX Runtime ran (its profile: share of kernel time per op).
 *
 * Float = the committed config's exact passes (its int8 ones dropped); int8 variants add `opset-11` (rec is opset 9) and
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
import { REPO, readConfig } from '../../test/ocr/helpers/ort-invoker.js';
import { documentText, renderDocument } from './document.js';
import {
  PAGE_SHAPES,
  floatPasses,
  cpuMsPerPass,
  median,
  pipelineCer,
  timeAlternately,
} from './model-passes.js';

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
const OPTIONS: ort.InferenceSession.SessionOptions = {
  intraOpNumThreads: 1,
  graphOptimizationLevel: 'all',
  extra: { session: { intra_op: { allow_spinning: '0' } } },
};

/** Share of kernel time per op type in the second profiled pass over the shapes (top few). */
async function kernels(model: Uint8Array, shapes: number[][]): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'inferd-int8-prof-'));
  const s = await ort.InferenceSession.create(model, {
    ...OPTIONS,
    enableProfiling: true,
    profileFilePrefix: join(dir, 'p'),
  });
  await cpuMsPerPass(s, shapes); // first runs allocate and pack weights: not counted
  await cpuMsPerPass(s, shapes);
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
  const base = floatPasses(name);
  const int8Ranges = (
    JSON.parse(readFileSync(join(flags.ranges, name, 'int8-ranges.json'), 'utf8')) as { ranges: Int8Ranges }
  ).ranges;
  const variants = [
    { variant: 'float', passes: base },
    { variant: 'int8-qdq', passes: [...base, 'opset-11', 'int8-qdq'] as RewritePass[] },
    { variant: 'int8-qdq-dense', passes: [...base, 'opset-11', 'int8-qdq-dense'] as RewritePass[] },
  ].map((v) => ({ ...v, ...rewriteModel(readFileSync(file), v.passes, { int8Ranges }) }));
  const sessions = await Promise.all(variants.map((v) => ort.InferenceSession.create(v.model, OPTIONS)));
  const times = await timeAlternately(sessions, PAGE_SHAPES[name], reps);
  for (const s of sessions) await s.release();
  for (let i = 0; i < variants.length; i++) {
    const v = variants[i];
    const sites = v.changed['int8-qdq'] ?? v.changed['int8-qdq-dense'] ?? '-';
    const ctx = { passes: { [name]: v.passes }, int8Ranges: { [name]: int8Ranges } };
    const cers = flags['no-cer'] ? ['-', '-'] : [await pipelineCer(ctx, page), await pipelineCer(ctx, set)];
    console.log(
      `| ${name} | ${v.variant} | ${sites} | ${(v.model.length / 1e6).toFixed(2)} | ${median(times[i]).toFixed(0)} | ${(median(times[i]) / median(times[0])).toFixed(2)} | ${cers[0]} | ${cers[1]} | ${await kernels(v.model, PAGE_SHAPES[name])} |`,
    );
  }
}
