/**
 * Shadow overhead: the primary's latency with a 100% shadow rollout (every request mirrored to the
 * candidate) against no rollout, on one server process at a moderate open-loop rate. Phases
 * alternate off/on in the same run to spread machine noise; the report gives each phase's p50 and
 * p99, the medians per mode and their ratio, and how many mirrors were compared or shed.
 *   npm run build && node dist/bench/rollout/shadow.js [--rate 40] [--seconds 10] [--rounds 3] [--rows 16] [--shadow 100] [--control]
 * Writes bench/results/rollout-shadow-<share>.md.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { slowModel, writeModel } from '../../test/fixtures/repository.js';
import { exited, spawnServer } from '../../test/helpers/spawn.js';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '40' },
    seconds: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '3' },
    rows: { type: 'string', default: '16' },
    shadow: { type: 'string', default: '100' },
    /** A/A control: the second phase of each round runs without a rollout too (the noise floor). */
    control: { type: 'boolean', default: false },
  },
});
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const ROUNDS = Number(values.rounds);
const ROWS = Number(values.rows);
const SHADOW = Number(values.shadow);
const CONTROL = values.control;
const MODE = CONTROL ? 'off (A/A)' : `shadow ${SHADOW}%`;
const TOKEN = 'bench-admin-token-0123456789';

const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};
const median = (xs: number[]): number => quantile(xs, 0.5);

async function phase(url: string): Promise<{ p50: number; p99: number; n: number; failed: number }> {
  const body = JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 1], data: [1] }] });
  const lat: number[] = [];
  let failed = 0;
  const inflight: Promise<void>[] = [];
  const start = performance.now();
  const total = Math.round(RATE * SECONDS);
  for (let i = 0; i < total; i++) {
    // Open loop: request i is sent at start + i / rate, whatever the previous ones are doing.
    const due = start + (i * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    inflight.push(
      (async () => {
        const t = performance.now();
        const res = await fetch(`${url}/v2/models/m/infer`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-request-id': `r${i}-${Math.random()}` },
          body,
        });
        await res.arrayBuffer();
        if (res.status === 200) lat.push(performance.now() - t);
        else failed++;
      })(),
    );
  }
  await Promise.all(inflight);
  return { p50: quantile(lat, 0.5), p99: quantile(lat, 0.99), n: lat.length, failed };
}

async function admin(url: string, path: string, body: unknown): Promise<void> {
  const res = await fetch(`${url}/admin/rollouts/m${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
}

async function shadowCounts(url: string): Promise<string> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith('inferd_shadow_requests_total{'))
    .map((l) => l.replace(/^inferd_shadow_requests_total\{model="m",version="2",outcome="(\w+)"\} /, '$1 '))
    .join(', ');
}

const repo = mkdtempSync(join(tmpdir(), 'inferd-bench-shadow-'));
const data = mkdtempSync(join(tmpdir(), 'inferd-bench-shadow-data-'));
const config = { max_batch_size: 0, version_policy: { all: {} }, aliases: { production: '1' } };
writeModel(repo, 'm', 1, slowModel(1, ROWS), config);
writeModel(repo, 'm', 2, slowModel(1, ROWS));
const server = await spawnServer(['--model-repository', repo, '--data-dir', data, '--auth', 'off'], {
  INFERD_ADMIN_TOKEN: TOKEN,
  INFERD_LOG_LEVEL: 'error',
});
const rows: string[] = [];
const off: number[] = [];
const on: number[] = [];
try {
  await phase(server.url); // warm-up
  for (let r = 1; r <= ROUNDS; r++) {
    const a = await phase(server.url);
    off.push(a.p50);
    rows.push(`| ${r} | off | ${a.p50.toFixed(2)} | ${a.p99.toFixed(2)} | ${a.n} | ${a.failed} |`);
    if (!CONTROL)
      await admin(server.url, '', {
        version: '2',
        percent: 0,
        shadow_percent: SHADOW,
        policy: { min_samples: 1_000_000 },
      });
    const b = await phase(server.url);
    on.push(b.p50);
    rows.push(`| ${r} | ${MODE} | ${b.p50.toFixed(2)} | ${b.p99.toFixed(2)} | ${b.n} | ${b.failed} |`);
    if (!CONTROL) await admin(server.url, '/rollback', { reason: 'bench phase over' });
  }
  const mirrors = await shadowCounts(server.url);
  const ratio = median(on) / median(off);
  const md = `# Shadow overhead on the primary's latency

Issue #17's acceptance line: "shadow adds no more than 5% to the primary p50 at moderate load".

- Machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'} (load average at the end ${loadavg()[0]!.toFixed(2)}), Node ${process.version}
- Model: \`slowModel(1, ${ROWS})\` from test/fixtures/repository.ts (Expand to ${ROWS}×1024, one 1024×1024 MatMul), versions 1 and 2 identical, both loaded
- Load: open loop, ${RATE} req/s for ${SECONDS} s per phase, REST JSON, one server process (\`inferd serve --auth off --admin-token …\`), the client in another process
- Phases alternate in one run: off (no rollout) and shadow ${SHADOW}% (\`percent 0, shadow_percent ${SHADOW}\`: that share of requests is mirrored to version 2), ${ROUNDS} rounds after a warm-up phase
- Command: \`npm run build && node dist/bench/rollout/shadow.js --rate ${RATE} --seconds ${SECONDS} --rounds ${ROUNDS} --rows ${ROWS} ${CONTROL ? '--control' : `--shadow ${SHADOW}`}\`

| round | mode | p50 ms | p99 ms | answered | failed |
|---|---|---|---|---|---|
${rows.join('\n')}

**Median p50: off ${median(off).toFixed(2)} ms, ${MODE} ${median(on).toFixed(2)} ms, ratio ${ratio.toFixed(3)}** (${((ratio - 1) * 100).toFixed(1)}%).

Mirrors over the run: ${mirrors || 'none'} (a mirror is shed when another request is in flight, the candidate has anything queued or running, or its background lane is busy or still starting; on ONNX it computes at SCHED_IDLE on one thread).
`;
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(`bench/results/rollout-shadow-${CONTROL ? 'control' : SHADOW}.md`, md);
  process.stdout.write(md);
} finally {
  server.proc.kill('SIGTERM');
  await exited(server.proc);
  rmSync(repo, { recursive: true, force: true });
  rmSync(data, { recursive: true, force: true });
}
