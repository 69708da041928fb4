/**
 * OCR pipeline benchmark: one 1280×960 document image through the `ocr` pipeline, in-process
 * (pipeline backend + onnxruntime-node sessions for ocr-det/ocr-cls/ocr-rec, no HTTP, no
 * scheduler), at concurrency 1 and 4. Reports images/s, p50/p99 latency, and per image the time
 * spent in detection, classification and recognition models (time at least one call of that model was
 * running) and, at concurrency 1, in the TypeScript steps (at 4, steps include waits for the models).
 *
 * Usage (after `npx tsc -p tsconfig.json`): node dist/bench/ocr/run.js [images-per-cell] [intra-op-threads]
 */
import { availableParallelism } from 'node:os';
import type { PipelineBackend } from '../../src/runtime/pipeline/backend.js';
import { OrtInvoker, loadOcrPipeline, runOcr } from '../../test/ocr/helpers/ort-invoker.js';
import { levenshtein } from '../../test/ocr/helpers/render.js';
import { HEIGHT, WIDTH, documentText, renderDocument } from './document.js';

const perCell = Number(process.argv[2] ?? 40);
const threads = process.argv[3] === undefined ? undefined : Number(process.argv[3]);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

interface Split {
  det: number;
  cls: number;
  rec: number;
  ts: number;
}

function snapshot(backend: PipelineBackend, invoker: OrtInvoker): Split {
  const model = (name: string): number => invoker.timings.get(name)?.busyMs ?? 0;
  const step = (name: string): number => backend.timings.find((t) => t.step === name)?.totalMs ?? 0;
  // TS steps = every function step's wall time minus the time the models called from inside cls/rec
  // were running (exact at concurrency 1, where steps do not overlap; indicative above).
  const fnSteps = ['decode', 'det_pre', 'det_post', 'crop', 'cls', 'rec', 'assemble'].reduce(
    (s, n) => s + step(n),
    0,
  );
  return {
    det: model('ocr-det'),
    cls: model('ocr-cls'),
    rec: model('ocr-rec'),
    ts: fnSteps - model('ocr-cls') - model('ocr-rec'),
  };
}

async function cell(
  backend: PipelineBackend,
  invoker: OrtInvoker,
  image: Buffer,
  concurrency: number,
): Promise<string> {
  const before = snapshot(backend, invoker);
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < perCell) {
        next++;
        const t0 = performance.now();
        await runOcr(backend, image);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  const after = snapshot(backend, invoker);
  const per = (k: keyof Split): string => ((after[k] - before[k]) / perCell).toFixed(1);
  latencies.sort((a, b) => a - b);
  return `| ${concurrency} | ${perCell} | ${(perCell / elapsed).toFixed(2)} | ${percentile(latencies, 50).toFixed(0)} | ${percentile(latencies, 99).toFixed(0)} | ${per('det')} | ${per('cls')} | ${per('rec')} | ${concurrency === 1 ? per('ts') : 'n/a'} |`;
}

const invoker = await OrtInvoker.create(undefined, threads);
const backend = await loadOcrPipeline(invoker);
const image = await renderDocument();
const warm = await runOcr(backend, image);
for (let i = 0; i < 2; i++) await runOcr(backend, image);
const truth = documentText();
const cer = levenshtein(truth, warm.text) / truth.length;
console.log(
  `# OCR pipeline, ${WIDTH}×${HEIGHT} PNG (${image.length} bytes), ${warm.lines.length} lines, CER ${(cer * 100).toFixed(2)}%`,
);
console.log(
  `# in-process (no HTTP/scheduler), ${availableParallelism()} CPUs, ORT intra-op threads: ${threads ?? 'default'}`,
);
console.log(
  '| concurrency | images | images/s | p50 ms | p99 ms | det ms/img | cls ms/img | rec ms/img | TS steps ms/img |',
);
console.log('|---|---|---|---|---|---|---|---|---|');
for (const c of [1, 4]) console.log(await cell(backend, invoker, image, c));
if (process.env.OCR_BENCH_TEXT) console.log(warm.text);
await invoker.release();
