// Compute limit: the model in-process with ONNX Runtime, no HTTP, no thread hop — the rows/s a
// server could reach at best. Runs each batch size for `--duration` seconds after a warm-up and
// prints JSON { best: { batch, rowsPerS }, sizes: [{ batch, rowsPerS, msPerRun }] } on stdout.
// With `--sessions P` (P > 1), P sessions of `--threads` threads each run side by side in P worker
// threads and their rows/s add up: the ceiling for a server with P model instances.
// Usage: node bench/baselines/compute-limit.mjs --model M.onnx --request req.json --threads 2
//          [--sessions 1] [--batches 1,2,4,8,16,32,64] [--duration 3]
import { readFileSync } from 'node:fs';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import ort from 'onnxruntime-node';
import { batchOf, flags, sessionOptions, toOrt } from './ort-io.mjs';

/** Runs one batch size for durationMs on one session; returns { runs, elapsed }. */
async function measure(session, request, batch, durationMs) {
  const feeds = Object.fromEntries(batchOf(request, batch).map((i) => [i.name, toOrt(i)]));
  // Warm-up: first runs allocate arenas and pick kernels.
  for (let i = 0; i < 3; i++) await session.run(feeds);
  let runs = 0;
  const start = performance.now();
  while (performance.now() - start < durationMs) {
    await session.run(feeds);
    runs += 1;
  }
  return { runs, elapsed: performance.now() - start };
}

if (!isMainThread) {
  // One of P parallel sessions: waits for a batch size, measures, reports, until told to stop.
  const { model, request, threads } = workerData;
  const session = await ort.InferenceSession.create(model, sessionOptions(threads));
  parentPort.on('message', async (msg) => {
    if (msg.stop) {
      await session.release();
      process.exit(0);
    }
    parentPort.postMessage(await measure(session, request, msg.batch, msg.durationMs));
  });
  parentPort.postMessage({ ready: true });
} else {
  const f = flags(process.argv.slice(2), {
    batches: '1,2,4,8,16,32,64',
    duration: '3',
    threads: '2',
    sessions: '1',
  });
  const request = JSON.parse(readFileSync(f.request, 'utf8'));
  const threads = Number(f.threads);
  const sessions = Number(f.sessions);
  const durationMs = Number(f.duration) * 1000;

  const workers = [];
  let session;
  if (sessions > 1) {
    for (let i = 0; i < sessions; i++) {
      const w = new Worker(new URL(import.meta.url), { workerData: { model: f.model, request, threads } });
      await new Promise((resolve) => w.once('message', resolve));
      workers.push(w);
    }
  } else {
    session = await ort.InferenceSession.create(f.model, sessionOptions(threads));
  }
  const one = (w, batch) =>
    new Promise((resolve) => {
      w.once('message', resolve);
      w.postMessage({ batch, durationMs });
    });

  const sizes = [];
  for (const batch of f.batches.split(',').map(Number)) {
    const results =
      sessions > 1
        ? await Promise.all(workers.map((w) => one(w, batch)))
        : [await measure(session, request, batch, durationMs)];
    const rowsPerS = results.reduce((n, r) => n + (r.runs * batch * 1000) / r.elapsed, 0);
    const msPerRun = results.reduce((n, r) => n + r.elapsed / r.runs, 0) / results.length;
    sizes.push({ batch, rowsPerS, msPerRun });
    process.stderr.write(`batch ${batch}: ${rowsPerS.toFixed(0)} rows/s, ${msPerRun.toFixed(2)} ms/run\n`);
  }
  const best = sizes.reduce((a, b) => (b.rowsPerS > a.rowsPerS ? b : a));
  for (const w of workers) w.postMessage({ stop: true });
  await session?.release();
  process.stdout.write(
    JSON.stringify({ best: { batch: best.batch, rowsPerS: best.rowsPerS, sessions, threads }, sizes }) + '\n',
  );
}
