/**
 * Warm-up and response cache, measured side by side in one run (bench/results/warmup-and-cache.md):
 *
 * 1. First-request latency of the spam model with and without the synthetic warm-up: a fresh
 *    server process per round (spam only), alternating the two settings; then the next requests.
 * 2. The response cache on repeats: one server with `spam` and `spam_cached` (the same model with
 *    `response_cache {enable: true}`), and `ocr` and `ocr_cached` likewise; requests alternate
 *    between the plain and the cached model with the same inputs.
 *
 * Usage (after `npm run build`, from the repository root): node dist/bench/warmup-cache.js [rounds] [spam-requests] [ocr-requests]
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer } from '../test/helpers/server.js';
import { exited, spawnServer } from '../test/helpers/spawn.js';
import { renderDocument } from './ocr/document.js';

const rounds = Number(process.argv[2] ?? 7);
const spamRequests = Number(process.argv[3] ?? 200);
const ocrRequests = Number(process.argv[4] ?? 8);
const MODELS = join(import.meta.dirname, '..', '..', 'models');

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** Copies `name` from models/ as `as`, its config changed by `edit`. */
function copyModel(
  dir: string,
  name: string,
  as: string,
  edit: (cfg: Record<string, unknown>) => void,
): void {
  cpSync(join(MODELS, name), join(dir, as), { recursive: true });
  const file = join(dir, as, 'config.json');
  const cfg = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  cfg.name = as;
  edit(cfg);
  writeFileSync(file, JSON.stringify(cfg));
}

const message = (i: number): string =>
  `From: someone${i}@example.com\nSubject: meeting notes ${i}\n\nHi, the notes from today's meeting are attached. Talk soon.`;

async function spam(url: string, model: string, text: string): Promise<number> {
  const t0 = performance.now();
  const res = await fetch(`${url}/v2/models/${model}/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ inputs: [{ name: 'text', shape: [1], datatype: 'BYTES', data: [text] }] }),
  });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`${model}: status ${res.status}`);
  return performance.now() - t0;
}

async function ocr(url: string, model: string, image: string): Promise<number> {
  const t0 = performance.now();
  const res = await fetch(`${url}/v2/models/${model}/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      inputs: [
        {
          name: 'image',
          datatype: 'BYTES',
          shape: [1],
          data: [image],
          parameters: { content_type: 'base64' },
        },
      ],
    }),
  });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`${model}: status ${res.status}`);
  return performance.now() - t0;
}

console.log(
  `# warm-up and response cache, ${availableParallelism()} CPUs, load ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);

// 1. Warm-up: the first request to a fresh server process (a new replica), with and without the
// synthetic warm-up. A process each: ONNX Runtime's and V8's first-run costs are per process.
{
  const dir = mkdtempSync(join(tmpdir(), 'inferd-bench-warm-'));
  copyModel(dir, 'spam', 'spam', () => undefined);
  const first: Record<string, number[]> = { off: [], on: [] };
  const next: Record<string, number[]> = { off: [], on: [] };
  const ready: Record<string, number[]> = { off: [], on: [] };
  const compute: Record<string, number[]> = { off: [], on: [] };
  /** The request's time inside the service (queue and compute; no HTTP, decoding or encoding). */
  const service: Record<string, number[]> = { off: [], on: [] };
  try {
    for (let r = 0; r < rounds; r += 1) {
      for (const mode of r % 2 ? ['on', 'off'] : ['off', 'on']) {
        const t0 = performance.now();
        const child = await spawnServer([
          '--model-repository',
          dir,
          '--auth',
          'off',
          '--synthetic-warmup',
          String(mode === 'on'),
        ]);
        ready[mode]!.push(performance.now() - t0);
        try {
          first[mode]!.push(await spam(child.url, 'spam', message(0)));
          // The model's share of it: compute (input, infer, output) of that one request, from the stats.
          const st = (await (await fetch(`${child.url}/v2/models/spam/stats`)).json()) as {
            model_stats: Array<{ inference_stats: Record<string, { ns: number }> }>;
          };
          const is = st.model_stats[0]!.inference_stats;
          compute[mode]!.push((is.compute_input!.ns + is.compute_infer!.ns + is.compute_output!.ns) / 1e6);
          service[mode]!.push(is.success!.ns / 1e6);
          for (let i = 1; i <= 20; i += 1) next[mode]!.push(await spam(child.url, 'spam', message(i)));
        } finally {
          child.proc.kill('SIGTERM');
          await exited(child.proc);
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`\n## spam: first request to a fresh server process (${rounds} processes each, alternating)\n`);
  console.log(
    '| synthetic warm-up | start to ready, median ms | first request, median ms | of which in the service (queue + compute), median ms | of which model compute, median ms | first requests, all ms | next 20 requests, median ms |',
  );
  console.log('|---|---|---|---|---|---|---|');
  for (const mode of ['off', 'on']) {
    console.log(
      `| ${mode} | ${median(ready[mode]!).toFixed(0)} | ${median(first[mode]!).toFixed(1)} | ${median(service[mode]!).toFixed(1)} | ${median(compute[mode]!).toFixed(1)} | ${first[mode]!.map((x) => x.toFixed(0)).join(', ')} | ${median(next[mode]!).toFixed(1)} |`,
    );
  }
}

// 2. Response cache: the same requests to a plain and a cached copy of each model, alternating.
{
  const dir = mkdtempSync(join(tmpdir(), 'inferd-bench-cache-'));
  const cached = (cfg: Record<string, unknown>): void => {
    cfg.response_cache = { enable: true };
  };
  copyModel(dir, 'spam', 'spam', () => undefined);
  copyModel(dir, 'spam', 'spam_cached', cached);
  for (const m of ['ocr', 'ocr-det', 'ocr-cls', 'ocr-rec']) copyModel(dir, m, m, () => undefined);
  copyModel(dir, 'ocr', 'ocr_cached', cached);
  const server = await startTestServer(dir);
  try {
    const url = server.httpUrl;
    const rows: string[] = [];
    const row = (workload: string, plain: number[], withCache: number[]): void => {
      const p = median(plain);
      const c = median(withCache);
      rows.push(
        `| ${workload} | ${plain.length} | ${p.toFixed(2)} | ${c.toFixed(2)} | ${(p / c).toFixed(1)}× |`,
      );
    };
    // Same message every time (the first request of each model is left out: a miss, and a first call).
    const same: Record<string, number[]> = { spam: [], spam_cached: [] };
    for (const m of ['spam', 'spam_cached']) await spam(url, m, message(0));
    for (let i = 0; i < spamRequests; i += 1) {
      for (const m of i % 2 ? ['spam_cached', 'spam'] : ['spam', 'spam_cached'])
        same[m]!.push(await spam(url, m, message(0)));
    }
    row('spam, the same message', same.spam!, same.spam_cached!);
    // 20 distinct messages in turn: after the first 20, every cached request is a hit.
    const mixed: Record<string, number[]> = { spam: [], spam_cached: [] };
    for (let i = 0; i < spamRequests; i += 1) {
      for (const m of i % 2 ? ['spam_cached', 'spam'] : ['spam', 'spam_cached'])
        mixed[m]!.push(await spam(url, m, message(100 + (i % 20))));
    }
    row('spam, 20 messages in turn (first 20 are misses)', mixed.spam!, mixed.spam_cached!);
    const image = (await renderDocument()).toString('base64');
    const page: Record<string, number[]> = { ocr: [], ocr_cached: [] };
    for (const m of ['ocr', 'ocr_cached']) await ocr(url, m, image);
    for (let i = 0; i < ocrRequests; i += 1) {
      for (const m of i % 2 ? ['ocr_cached', 'ocr'] : ['ocr', 'ocr_cached'])
        page[m]!.push(await ocr(url, m, image));
    }
    row('OCR, the same 1280×960 page', page.ocr!, page.ocr_cached!);
    const stats = (await (
      await fetch(`${url}/v2/models/spam_cached/stats`, {
        headers: { authorization: 'Bearer test-admin-token-0123456789' },
      })
    ).json()) as { model_stats: Array<{ inference_stats: Record<string, { count: number; ns: number }> }> };
    const s = stats.model_stats[0]!.inference_stats;
    console.log(`\n## response cache: the same requests to a plain and a cached copy, alternating\n`);
    console.log('| workload | requests each | plain, median ms | cached, median ms | ratio |');
    console.log('|---|---|---|---|---|');
    for (const r of rows) console.log(r);
    console.log(
      `\nspam_cached stats: cache_hit ${s.cache_hit!.count} (mean ${(s.cache_hit!.ns / Math.max(1, s.cache_hit!.count) / 1e3).toFixed(0)} µs), cache_miss ${s.cache_miss!.count} (mean ${(s.cache_miss!.ns / Math.max(1, s.cache_miss!.count) / 1e3).toFixed(0)} µs)`,
    );
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
console.log(
  `\nload after: ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
