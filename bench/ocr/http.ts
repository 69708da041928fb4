/**
 * The OCR benchmark through the real server: starts inferd in-process over a temporary repository
 * (ocr pipeline + ocr-det/ocr-cls/ocr-rec on the ONNX backend's worker threads, with the
 * scheduler's dynamic batching) and POSTs the 1280×960 document to /v2/models/ocr/infer as JSON
 * with a base64 BYTES input, at concurrency 1 and 4. Reports images/s and p50/p99 latency.
 *
 * Usage (after `npx tsc -p tsconfig.json`): node dist/bench/ocr/http.js [images-per-cell]
 */
import { availableParallelism } from 'node:os';
import { startTestServer } from '../../test/helpers/server.js';
import { inferOverHttp, makeOcrRepository } from '../../test/ocr/helpers/repo.js';
import { HEIGHT, WIDTH, renderDocument } from './document.js';

const perCell = Number(process.argv[2] ?? 40);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const repo = makeOcrRepository();
const server = await startTestServer(repo.dir);
try {
  const image = await renderDocument();
  for (let i = 0; i < 3; i++) {
    const { status, body } = await inferOverHttp(server.httpUrl, image);
    if (status !== 200) throw new Error(`warm-up failed: ${status} ${JSON.stringify(body)}`);
  }
  console.log(
    `# OCR over HTTP (REST JSON, base64 image), ${WIDTH}×${HEIGHT} PNG, ${availableParallelism()} CPUs`,
  );
  console.log('| concurrency | images | images/s | p50 ms | p99 ms |');
  console.log('|---|---|---|---|---|');
  for (const concurrency of [1, 4]) {
    const latencies: number[] = [];
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < perCell) {
          next++;
          const t0 = performance.now();
          const { status } = await inferOverHttp(server.httpUrl, image);
          if (status !== 200) throw new Error(`status ${status}`);
          latencies.push(performance.now() - t0);
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    latencies.sort((a, b) => a - b);
    console.log(
      `| ${concurrency} | ${perCell} | ${(perCell / seconds).toFixed(2)} | ${percentile(latencies, 50).toFixed(0)} | ${percentile(latencies, 99).toFixed(0)} |`,
    );
  }
} finally {
  await server.close();
  repo.remove();
}
