/**
 * The OCR models as shipped, with the exact rewrites (the committed configs: "float") and with
 * int8 dynamic quantisation on top, measured per model: size, median run time on the
 * shapes the 1280×960 page gives (det [1,3,704,960]; rec its 13 width-bucketed batches), and the
 * pipeline's CER with that model quantised (the page and the rendered test set). Float and int8
 * sessions are timed alternately in one run (shared machine). Float = the committed config's
 * exact passes (its static int8 dropped); int8 = those plus `opset-11` (rec is opset 9), `int8-conv` and `int8-matmul` (runtime/onnx/rewrite/quantize.ts).
 *
 * Usage (after `npm run build`): node dist/bench/ocr/int8.js [reps]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { rewriteModel, type RewritePass } from '../../src/runtime/onnx/rewrite/passes.js';
import { resolveConfigPath } from '../../src/runtime/npm-path.js';
import { renderedSet } from '../../test/ocr/helpers/dataset.js';
import { REPO, readConfig } from '../../test/ocr/helpers/ort-invoker.js';
import { documentText, renderDocument } from './document.js';
import { PAGE_SHAPES, floatPasses, median, pipelineCer, timeAlternately } from './model-passes.js';

const reps = Number(process.argv[2] ?? 5);
const INT8: RewritePass[] = ['opset-11', 'int8-conv', 'int8-matmul'];
async function session(bytes: Uint8Array): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(bytes, { extra: { session: { intra_op: { allow_spinning: '0' } } } });
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
  const base = floatPasses(name);
  const variants = [
    { variant: 'shipped', passes: [] as RewritePass[] },
    { variant: 'float', passes: base },
    { variant: 'int8', passes: [...base, ...INT8] },
  ].map((v) => ({ ...v, ...rewriteModel(readFileSync(file), v.passes) }));
  const sessions = await Promise.all(variants.map((v) => session(v.model)));
  const times = await timeAlternately(sessions, PAGE_SHAPES[name], reps);
  for (const s of sessions) await s.release();
  for (let i = 0; i < variants.length; i++) {
    const v = variants[i];
    const quantised = v.passes
      .filter((p) => INT8.includes(p) && p !== 'opset-11')
      .map((p) => `${p} ${v.changed[p]}`);
    console.log(
      `| ${name} | ${v.variant} | ${quantised.join(', ') || '-'} | ${(v.model.length / 1e6).toFixed(2)} | ${median(times[i]).toFixed(0)} | ${(median(times[i]) / median(times[0])).toFixed(2)} | ${await pipelineCer({ passes: { [name]: v.passes } }, page)} | ${await pipelineCer({ passes: { [name]: v.passes } }, set)} |`,
    );
  }
}
