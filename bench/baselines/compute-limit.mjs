// Compute limit: the model in-process with ONNX Runtime, no HTTP, no threads hop — the rows/s a
// server could reach at best. Runs each batch size for `--duration` seconds after a warm-up and
// prints JSON { best: { batch, rowsPerS }, sizes: [{ batch, rowsPerS, msPerRun }] } on stdout.
// Usage: node bench/baselines/compute-limit.mjs --model M.onnx --request req.json --threads 2
//          [--batches 1,2,4,8,16,32,64] [--duration 3]
import { readFileSync } from 'node:fs';
import ort from 'onnxruntime-node';
import { batchOf, flags, sessionOptions, toOrt } from './ort-io.mjs';

const f = flags(process.argv.slice(2), { batches: '1,2,4,8,16,32,64', duration: '3', threads: '2' });
const request = JSON.parse(readFileSync(f.request, 'utf8'));
const session = await ort.InferenceSession.create(f.model, sessionOptions(Number(f.threads)));
const durationMs = Number(f.duration) * 1000;

const sizes = [];
for (const batch of f.batches.split(',').map(Number)) {
  const feeds = Object.fromEntries(batchOf(request, batch).map((i) => [i.name, toOrt(i)]));
  // Warm-up: first runs allocate arenas and pick kernels.
  for (let i = 0; i < 3; i++) await session.run(feeds);
  let runs = 0;
  const start = performance.now();
  while (performance.now() - start < durationMs) {
    await session.run(feeds);
    runs += 1;
  }
  const elapsed = performance.now() - start;
  sizes.push({ batch, rowsPerS: (runs * batch * 1000) / elapsed, msPerRun: elapsed / runs });
  process.stderr.write(
    `batch ${batch}: ${sizes.at(-1).rowsPerS.toFixed(0)} rows/s, ${sizes.at(-1).msPerRun.toFixed(2)} ms/run\n`,
  );
}
const best = sizes.reduce((a, b) => (b.rowsPerS > a.rowsPerS ? b : a));
await session.release();
process.stdout.write(JSON.stringify({ best: { batch: best.batch, rowsPerS: best.rowsPerS }, sizes }) + '\n');
