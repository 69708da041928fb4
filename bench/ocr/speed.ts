/**
 * Before/after OCR speed, side by side in one run (the bench machine is shared, so the two are
 * measured in alternating cells, never in separate runs): "before" runs the models as shipped with
 * the classifier on every line; "after" runs models/*\/config.json as committed (graph rewrites,
 * classifier policy). Each round measures before and after at concurrency 1 and 4 on the same
 * 1280×960 page (bench/ocr/document.ts); the table gives medians over rounds and ratios. CER is
 * reported for both on that page and on the rendered test set (test/ocr/helpers/dataset.ts).
 * "served" is "after" through the real server (REST JSON, scheduler, ONNX worker threads), in the
 * same rounds, to compare the served throughput with the in-process pipeline's.
 *
 * Usage (after `npm run build`): node dist/bench/ocr/speed.js [rounds] [images-per-cell] [--no-served]
 *   [--served-priority idle|low|normal]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { startTestServer } from '../../test/helpers/server.js';
import { inferOverHttp, makeOcrRepository } from '../../test/ocr/helpers/repo.js';
import { renderedSet } from '../../test/ocr/helpers/dataset.js';
import { OrtInvoker, loadOcrPipeline, runOcr } from '../../test/ocr/helpers/ort-invoker.js';
import { corpusCer } from '../../test/ocr/helpers/render.js';
import { HEIGHT, WIDTH, documentText, renderDocument } from './document.js';

const rounds = Number(process.argv[2] ?? 3);
const perCell = Number(process.argv[3] ?? 8);

interface Setting {
  name: string;
  read(image: Buffer): Promise<string>;
}

const median = (v: number[]): number => [...v].sort((a, b) => a - b)[v.length >> 1];

/**
 * Pages/s (wall) and the process's CPU ms per page: ORT's threads, the server's workers and the
 * event loop are all in this process, so CPU time is the work done, which other jobs on a shared
 * machine disturb far less than they disturb wall time.
 */
async function measure(
  s: Setting,
  image: Buffer,
  concurrency: number,
): Promise<{ rate: number; cpuMs: number }> {
  let next = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < perCell) {
        next++;
        await s.read(image);
      }
    }),
  );
  const used = process.cpuUsage(cpu);
  return {
    rate: perCell / ((performance.now() - started) / 1000),
    cpuMs: (used.user + used.system) / 1000 / perCell,
  };
}

async function cer(s: Setting, pages: { bytes: Buffer; text: string }[]): Promise<string> {
  const { edits, length, percent } = await corpusCer(pages, (bytes) => s.read(bytes));
  return `${percent.toFixed(2)}% (${edits}/${length})`;
}

const beforeInvoker = await OrtInvoker.create(undefined, undefined, { rewrites: false });
const beforeOcr = await loadOcrPipeline(beforeInvoker, (cfg) => {
  const steps = (cfg.pipeline as { steps: { name: string; parameters: Record<string, unknown> }[] }).steps;
  const cls = steps.find((s) => s.name === 'cls');
  if (cls) cls.parameters = { ...cls.parameters, policy: 'all' };
});
const before: Setting = { name: 'before', read: async (image) => (await runOcr(beforeOcr, image)).text };
const afterInvoker = await OrtInvoker.create();
const afterOcr = await loadOcrPipeline(afterInvoker);
const after: Setting = { name: 'after', read: async (image) => (await runOcr(afterOcr, image)).text };
const repo = makeOcrRepository();
// `--served-priority normal`: the served models' inference threads at the event loop's priority
// instead of SCHED_IDLE (the default), which other jobs on a shared machine starve.
const priority = process.argv[process.argv.indexOf('--served-priority') + 1];
if (process.argv.includes('--served-priority')) {
  for (const name of ['ocr-det', 'ocr-cls', 'ocr-rec']) {
    const file = join(repo.dir, name, 'config.json');
    const cfg = JSON.parse(readFileSync(file, 'utf8')) as { onnxruntime?: Record<string, unknown> };
    cfg.onnxruntime = { ...cfg.onnxruntime, thread_priority: priority };
    writeFileSync(file, JSON.stringify(cfg));
  }
}
const server = await startTestServer(repo.dir);
const served: Setting = {
  name: 'served',
  async read(image) {
    const { status, body } = await inferOverHttp(server.httpUrl, image);
    if (status !== 200) throw new Error(`served: ${status} ${JSON.stringify(body)}`);
    return (body.outputs as { name: string; data: string[] }[]).find((o) => o.name === 'text')?.data[0] ?? '';
  },
};
const settings = process.argv.includes('--no-served') ? [before, after] : [before, after, served];

const image = await renderDocument();
const doc = [{ bytes: image, text: documentText() }];
const set = (await renderedSet()).map((c) => ({ bytes: c.bytes, text: c.lines.join('\n') }));
for (const s of settings) for (let i = 0; i < 2; i++) await s.read(image);

console.log(
  `# OCR before/after, ${WIDTH}×${HEIGHT} page, ${availableParallelism()} CPUs, ${rounds} rounds × ${perCell} pages per cell`,
);
console.log(
  `# load average at start: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
for (const s of settings) {
  console.log(
    `# ${s.name}: CER page ${await cer(s, doc)}, rendered set (${set.length} pages) ${await cer(s, set)}`,
  );
}
const results: Record<string, number[]> = {};
const cpuMs: Record<string, number[]> = {};
for (let r = 0; r < rounds; r++) {
  for (const c of [1, 4]) {
    // Alternate which goes first, so a load change inside a round does not favour one side.
    for (const s of r % 2 === 0 ? settings : [...settings].reverse()) {
      const key = `${s.name} c=${c}`;
      const m = await measure(s, image, c);
      (results[key] ??= []).push(m.rate);
      (cpuMs[key] ??= []).push(m.cpuMs);
    }
  }
  console.log(
    `# round ${r + 1}: ${Object.entries(results)
      .map(([k, v]) => `${k} ${v.at(-1)?.toFixed(2)}`)
      .join(', ')}; load ${loadavg()[0].toFixed(2)}`,
  );
}
const hasServed = settings.includes(served);
console.log(
  `| concurrency | before pages/s | after pages/s | after / before |${hasServed ? ' served pages/s | served / after |' : ''}`,
);
console.log(`|---|---|---|---|${hasServed ? '---|---|' : ''}`);
for (const c of [1, 4]) {
  const b = median(results[`before c=${c}`]);
  const a = median(results[`after c=${c}`]);
  const sv = hasServed ? median(results[`served c=${c}`]) : 0;
  const tail = hasServed ? ` ${sv.toFixed(2)} | ${((100 * sv) / a).toFixed(0)}% |` : '';
  console.log(`| ${c} | ${b.toFixed(2)} | ${a.toFixed(2)} | ${(a / b).toFixed(2)}× |${tail}`);
}
console.log('\nCPU ms per page (median over rounds):');
console.log(`| concurrency | before | after | before / after |${hasServed ? ' served |' : ''}`);
console.log(`|---|---|---|---|${hasServed ? '---|' : ''}`);
for (const c of [1, 4]) {
  const b = median(cpuMs[`before c=${c}`]);
  const a = median(cpuMs[`after c=${c}`]);
  const tail = hasServed ? ` ${median(cpuMs[`served c=${c}`]).toFixed(0)} |` : '';
  console.log(`| ${c} | ${b.toFixed(0)} | ${a.toFixed(0)} | ${(b / a).toFixed(2)}× |${tail}`);
}
await server.close();
repo.remove();
await beforeInvoker.release();
await afterInvoker.release();
