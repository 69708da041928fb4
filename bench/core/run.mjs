// Issue 2 numbers: cold start to ready for the fixture repository, and latency / throughput of the
// `add` fixture at concurrency 1 and 16 over loopback (autocannon, closed loop).
// Usage: npm run build && node bench/core/run.mjs [--duration 10] [--runs 3]
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { cpus } from 'node:os';
import { writeFileSync, mkdirSync } from 'node:fs';
import autocannon from 'autocannon';
import { makeFixtureRepository } from '../../dist/test/fixtures/repository.js';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const duration = opt('duration', 10);
const runs = opt('runs', 3);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const freePort = () =>
  new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

async function startServer(repo) {
  const port = await freePort();
  const t0 = performance.now();
  const child = spawn(
    process.execPath,
    [
      'bin/inferd.js',
      'serve',
      '--model-repository',
      repo,
      '--http-port',
      String(port),
      '--host',
      '127.0.0.1',
      '--log-level',
      'warn',
    ],
    { stdio: 'ignore' },
  );
  const url = `http://127.0.0.1:${port}`;
  for (;;) {
    try {
      if ((await fetch(url + '/v2/health/ready')).status === 200) break;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  return { child, url, readyMs: performance.now() - t0 };
}

const stop = (child) =>
  new Promise((resolve) => {
    child.once('exit', resolve);
    child.kill('SIGTERM');
  });

const repo = makeFixtureRepository();
const cold = [];
for (let i = 0; i < runs; i++) {
  const s = await startServer(repo);
  cold.push(s.readyMs);
  await stop(s.child);
}

const body = JSON.stringify({
  inputs: [
    { name: 'a', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] },
    { name: 'b', shape: [1, 4], datatype: 'FP32', data: [5, 6, 7, 8] },
  ],
});
const server = await startServer(repo);
const results = {};
for (const connections of [1, 16]) {
  results[connections] = [];
  for (let i = 0; i < runs; i++) {
    const r = await autocannon({
      url: `${server.url}/v2/models/add/infer`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      connections,
      duration,
    });
    if (r.non2xx || r.errors) throw new Error(`errors during the run: non2xx=${r.non2xx} errors=${r.errors}`);
    results[connections].push({ rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99 });
    console.error(
      `c=${connections} run ${i + 1}: ${r.requests.average} req/s, p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms`,
    );
  }
}
await stop(server.child);

const date = new Date().toISOString().slice(0, 10);
const lines = [
  `# Core server: cold start and the \`add\` fixture (${date})`,
  '',
  `Machine: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}.`,
  `Command: \`npm run build && node bench/core/run.mjs --duration ${duration} --runs ${runs}\` (autocannon, closed loop, loopback, JSON OIP request of two FP32 [1,4] inputs; \`add\` has max_batch_size 8 and a 2 ms max queue delay).`,
  '',
  `Cold start (spawn of \`inferd serve\` → first 200 on /v2/health/ready, fixture repository of 4 models): median **${median(cold).toFixed(0)} ms** (runs: ${cold.map((x) => x.toFixed(0)).join(', ')}).`,
  '',
  '| concurrency | req/s (median) | p50 ms | p99 ms | runs (req/s) |',
  '|---|---|---|---|---|',
  ...[1, 16].map((c) => {
    const rs = results[c];
    return `| ${c} | ${median(rs.map((r) => r.rps)).toFixed(0)} | ${median(rs.map((r) => r.p50))} | ${median(rs.map((r) => r.p99))} | ${rs.map((r) => r.rps.toFixed(0)).join(', ')} |`;
  }),
  '',
];
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/core.md', lines.join('\n'));
console.log(lines.join('\n'));
