/**
 * `npm run ocr:drift-reference`: writes the OCR model's drift reference,
 * models/ocr/<version>/drift_reference.json (docs/lifecycle.md#drift-reference). It renders a
 * held-out set of pages (test/ocr/helpers/held-out-pages.ts, seeded), serves a copy of the OCR
 * models in-process with auth off on loopback, sends every page to /v1/models/ocr/predict (the
 * path the live drift window observes, so the answers are read exactly as in production), and
 * bins the pages and answers with the same functions as the server (src/training/ocr/drift-reference.ts).
 * Nothing is downloaded: the models resolve through their npm packages, the fonts are Debian's.
 *
 *   npm run ocr:drift-reference [-- --pages 240 --seed 17 --version 1 --models models]
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { loadSettings } from '../src/config.js';
import { startServer } from '../src/server.js';
import { OCR_PREDICTION, ocrDriftReference, type OcrSample } from '../src/training/ocr/drift-reference.js';
import { predictionValue } from '../src/core/drift-features.js';
import { renderHeldOutPages } from '../test/ocr/helpers/held-out-pages.js';

const { values: flags } = parseArgs({
  options: {
    models: { type: 'string', default: 'models' },
    version: { type: 'string', default: '1' },
    pages: { type: 'string', default: '240' },
    seed: { type: 'string', default: '17' },
    concurrency: { type: 'string', default: '2' },
  },
});
const PAGES = Number(flags.pages);
const SEED = Number(flags.seed);

const started = performance.now();
const pages = await renderHeldOutPages(PAGES, SEED);
console.log(`rendered ${pages.length} pages in ${Math.round(performance.now() - started)} ms`);

const repo = mkdtempSync(join(tmpdir(), 'inferd-ocr-ref-'));
const dataDir = mkdtempSync(join(tmpdir(), 'inferd-ocr-ref-data-'));
for (const name of ['ocr', 'ocr-det', 'ocr-cls', 'ocr-rec']) {
  cpSync(join(flags.models, name), join(repo, name), { recursive: true });
}
const server = await startServer(
  loadSettings(
    { modelRepository: repo, host: '127.0.0.1', httpPort: 0, grpcPort: 0, auth: 'off', dataDir },
    {},
  ),
  { logger: pino({ level: 'warn' }) },
);
const samples: OcrSample[] = new Array<OcrSample>(pages.length);
try {
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < pages.length; i = next++) {
      const res = await fetch(`${server.httpUrl}/v1/models/ocr/versions/${flags.version}/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ image: pages[i]!.bytes.toString('base64') }),
      });
      const body = (await res.json()) as Record<string, unknown>;
      if (res.status !== 200) throw new Error(`page ${i}: ${res.status} ${JSON.stringify(body)}`);
      samples[i] = { image: pages[i]!.bytes, answer: body };
      if ((i + 1) % 20 === 0) console.log(`${i + 1}/${pages.length} pages read`);
    }
  };
  await Promise.all(Array.from({ length: Number(flags.concurrency) }, worker));
} finally {
  await server.close();
  rmSync(repo, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
}

const lines = pages.reduce((n, p) => n + p.lines, 0);
const found = samples.reduce((n, s) => n + ((s.answer['lines'] as unknown[] | undefined)?.length ?? 0), 0);
const sample =
  `${pages.length} held-out pages rendered by scripts/ocr-drift-reference.ts (test/ocr/helpers/held-out-pages.ts, ` +
  `seed ${SEED}): widths 480-2480 px, snippets and A4-shaped pages, 1-20 lines of generated English ` +
  `(${lines} drawn, ${found} found) in 6 DejaVu/Liberation fonts, PNG/JPEG/WebP, some noisy, blurred or ` +
  `rotated; answers from /v1/models/ocr/predict of version ${flags.version}. The OCR model's training data is not ` +
  `ours, so this is the traffic it was validated on, not its training set.`;
const reference = ocrDriftReference(samples, sample);
const out = join(flags.models, 'ocr', flags.version, 'drift_reference.json');
writeFileSync(out, `${JSON.stringify(reference, null, 2)}\n`);
console.log(`\nwrote ${out} in ${Math.round((performance.now() - started) / 1000)} s\n`);
const means = samples
  .map((s) => predictionValue(OCR_PREDICTION, s.answer))
  .filter((x): x is number => x !== undefined)
  .sort((a, b) => a - b);
const at = (q: number): string => (means[Math.floor(q * (means.length - 1))] ?? NaN).toFixed(4);
console.log(
  `mean line confidence per page: p5 ${at(0.05)}, p25 ${at(0.25)}, p50 ${at(0.5)}, p75 ${at(0.75)}`,
);
console.log('| feature | edges | counts |\n|---|---|---|');
for (const h of [...reference.features, { name: 'prediction', ...reference.prediction! }]) {
  console.log(`| ${h.name} | ${h.edges.join(', ')} | ${h.counts.join(', ')} |`);
}
