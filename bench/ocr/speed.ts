/**
 * Before/after OCR speed, side by side in one run (the bench machine is shared, so the two are
 * measured in alternating cells, never in separate runs): "before" runs the models as shipped with
 * the classifier on every line; "after" runs models/*\/config.json as committed (graph rewrites,
 * classifier policy). Each round measures before and after at concurrency 1 and 4 on the same
 * 1280×960 page (bench/ocr/document.ts); the table gives medians over rounds and ratios. CER is
 * reported for both on that page and on the rendered test set (test/ocr/helpers/dataset.ts).
 *
 * Usage (after `npm run build`): node dist/bench/ocr/speed.js [rounds] [images-per-cell]
 */
import { availableParallelism, loadavg } from 'node:os';
import type { PipelineBackend } from '../../src/runtime/pipeline/backend.js';
import { renderedSet } from '../../test/ocr/helpers/dataset.js';
import { OrtInvoker, loadOcrPipeline, runOcr } from '../../test/ocr/helpers/ort-invoker.js';
import { cerParts } from '../../test/ocr/helpers/render.js';
import { HEIGHT, WIDTH, documentText, renderDocument } from './document.js';

const rounds = Number(process.argv[2] ?? 3);
const perCell = Number(process.argv[3] ?? 8);

interface Setting {
  name: string;
  invoker: OrtInvoker;
  ocr: PipelineBackend;
}

const median = (v: number[]): number => [...v].sort((a, b) => a - b)[v.length >> 1];

async function pagesPerSecond(s: Setting, image: Buffer, concurrency: number): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < perCell) {
        next++;
        await runOcr(s.ocr, image);
      }
    }),
  );
  return perCell / ((performance.now() - started) / 1000);
}

async function cer(s: Setting, pages: { bytes: Buffer; text: string }[]): Promise<string> {
  let edits = 0;
  let length = 0;
  for (const p of pages) {
    const part = cerParts(p.text, (await runOcr(s.ocr, p.bytes)).text);
    edits += part.edits;
    length += part.length;
  }
  return `${((100 * edits) / length).toFixed(2)}% (${edits}/${length})`;
}

const beforeInvoker = await OrtInvoker.create(undefined, undefined, { rewrites: false });
const before: Setting = {
  name: 'before',
  invoker: beforeInvoker,
  ocr: await loadOcrPipeline(beforeInvoker, (cfg) => {
    const steps = (cfg.pipeline as { steps: { name: string; parameters: Record<string, unknown> }[] }).steps;
    const cls = steps.find((s) => s.name === 'cls');
    if (cls) cls.parameters = { ...cls.parameters, policy: 'all' };
  }),
};
const afterInvoker = await OrtInvoker.create();
const after: Setting = { name: 'after', invoker: afterInvoker, ocr: await loadOcrPipeline(afterInvoker) };

const image = await renderDocument();
const doc = [{ bytes: image, text: documentText() }];
const set = (await renderedSet()).map((c) => ({ bytes: c.bytes, text: c.lines.join('\n') }));
for (const s of [before, after]) for (let i = 0; i < 2; i++) await runOcr(s.ocr, image);

console.log(
  `# OCR before/after, ${WIDTH}×${HEIGHT} page, ${availableParallelism()} CPUs, ${rounds} rounds × ${perCell} pages per cell`,
);
console.log(
  `# load average at start: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
for (const s of [before, after]) {
  console.log(
    `# ${s.name}: CER page ${await cer(s, doc)}, rendered set (${set.length} pages) ${await cer(s, set)}`,
  );
}
const results: Record<string, number[]> = {};
for (let r = 0; r < rounds; r++) {
  for (const c of [1, 4]) {
    // Alternate which goes first, so a load change inside a round does not favour one side.
    for (const s of r % 2 === 0 ? [before, after] : [after, before]) {
      const key = `${s.name} c=${c}`;
      (results[key] ??= []).push(await pagesPerSecond(s, image, c));
    }
  }
  console.log(
    `# round ${r + 1}: ${Object.entries(results)
      .map(([k, v]) => `${k} ${v.at(-1)?.toFixed(2)}`)
      .join(', ')}; load ${loadavg()[0].toFixed(2)}`,
  );
}
console.log('| concurrency | before pages/s | after pages/s | after / before |');
console.log('|---|---|---|---|');
for (const c of [1, 4]) {
  const b = median(results[`before c=${c}`]);
  const a = median(results[`after c=${c}`]);
  console.log(`| ${c} | ${b.toFixed(2)} | ${a.toFixed(2)} | ${(a / b).toFixed(2)}× |`);
}
await beforeInvoker.release();
await afterInvoker.release();
