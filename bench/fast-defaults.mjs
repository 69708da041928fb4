// Issue #19's targets, measured side by side: inferd as a new user starts it (`npm start`: the shipped
// models/ folder, unchanged) against the naive server and the HTTP ceiling on the spam model, and a
// model dropped into a folder with no config (y = 2x + b, dynamic batch dimension) against FastAPI +
// PyTorch (one uvicorn worker) and the HTTP ceiling. Closed loop with wrk (C) and autocannon (Node);
// every run visits every server in turn (alternating), ratios are taken within a run, then the
// median over runs. With --before DIR, the same inferd command from another checkout (main) joins.
// Usage: npm run build && node bench/fast-defaults.mjs [--duration 8] [--runs 3]
//          [--clients wrk,autocannon] [--scenarios spam,affine] [--before /work/main]
//          [--out bench/results/fast-defaults.md]
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildModel } from '../dist/src/training/graph-builder.js';
import { defaultIntraOpThreads } from '../dist/src/runtime/cpu-quota.js';
import {
  autocannonRun,
  freePort,
  hasWrk,
  machine,
  median,
  npmStartArgs,
  stopServer,
  wrkRun,
} from './procs.mjs';

const argv = process.argv.slice(2);
const opt = (name, dflt) => (argv.includes(`--${name}`) ? argv[argv.indexOf(`--${name}`) + 1] : dflt);
const duration = Number(opt('duration', '8'));
const runs = Number(opt('runs', '3'));
const clients = opt('clients', 'wrk,autocannon').split(',');
const scenarios = opt('scenarios', 'spam,affine').split(',');
const before = opt('before', undefined);
const out = opt('out', 'bench/results/fast-defaults.md');
const log = (m) => process.stderr.write(`[fast-defaults] ${m}\n`);
if (clients.includes('wrk') && !hasWrk()) throw new Error('wrk is not installed (apt-get install wrk)');
const loadOf = { wrk: wrkRun, autocannon: autocannonRun };

/** Spawns `cmd args` and waits for /v2/health/ready (bench/procs.mjs startServer, any command). */
async function start(label, cmd, args, cwd = process.cwd()) {
  const port = await freePort();
  const child = spawn(cmd, args(port), { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${label} exited (${child.exitCode}): ${stderr}`);
    if (Date.now() > deadline) throw new Error(`${label} not ready after 120 s: ${stderr}`);
    try {
      if ((await fetch(`${url}/v2/health/ready`)).status === 200) break;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { label, child, url };
}

/** `npm start`'s command on a free port (bench/procs.mjs npmStartArgs). */
const inferd = (label, root, repo) =>
  start(label, process.execPath, (port) => npmStartArgs(root, repo, port));

async function ceiling(name, url, path, body, dir) {
  const res = await fetch(url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
  const file = join(dir, `${name}-response.json`);
  writeFileSync(file, Buffer.from(await res.arrayBuffer()));
  return start('HTTP ceiling', process.execPath, (port) => [
    'bench/baselines/http-ceiling.mjs',
    '--name',
    name,
    '--port',
    String(port),
    '--response',
    file,
  ]);
}

const dir = mkdtempSync(join(tmpdir(), 'inferd-fast-defaults-'));

async function spamServers() {
  const ours = await inferd('inferd (npm start)', process.cwd(), resolve('models'));
  const body = JSON.stringify({
    inputs: [
      { name: 'text', shape: [1], datatype: 'BYTES', data: ['WINNER! Claim your free prize now, reply YES'] },
    ],
  });
  const path = '/v2/models/spam/infer';
  const servers = [
    await start('naive', process.execPath, (port) => [
      'bench/baselines/naive.mjs',
      '--model',
      'models/spam/1/model.onnx',
      '--name',
      'spam',
      '--port',
      String(port),
      '--threads',
      String(defaultIntraOpThreads(1)),
    ]),
    await ceiling('spam', ours.url, path, body, dir),
    ours,
  ];
  if (before) servers.push(await inferd('inferd before (main, npm start)', before, resolve('models')));
  return { name: 'spam', path, body, servers, base: 'naive', loads: [64, 1] };
}

async function affineServers() {
  const repo = join(dir, 'repo');
  mkdirSync(join(repo, 'affine', '1'), { recursive: true });
  const model = buildModel({
    inputs: [{ name: 'x', type: 'FLOAT', shape: ['N', 4] }],
    outputs: [{ name: 'y', type: 'FLOAT', shape: ['N', 4] }],
    initializers: [
      { name: 'two', type: 'FLOAT', dims: [], values: [2] },
      { name: 'b', type: 'FLOAT', dims: [4], values: [1, 2, 3, 4] },
    ],
    nodes: [
      { op: 'Mul', inputs: ['x', 'two'], outputs: ['x2'] },
      { op: 'Add', inputs: ['x2', 'b'], outputs: ['y'] },
    ],
  });
  writeFileSync(join(repo, 'affine', '1', 'model.onnx'), model); // no config.json
  const ours = await inferd('inferd (no config)', process.cwd(), repo);
  const body = JSON.stringify({
    inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] }],
  });
  const path = '/v2/models/affine/infer';
  const servers = [
    await start('FastAPI + PyTorch', '/usr/bin/python3', (port) => [
      'bench/fastapi-server.py',
      '--port',
      String(port),
    ]),
    await ceiling('affine', ours.url, path, body, dir),
    ours,
  ];
  if (before) servers.push(await inferd('inferd before (main, no config)', before, repo));
  return { name: 'affine', path, body, servers, base: 'FastAPI + PyTorch', loads: [64] };
}

/** Resident and peak resident memory (MiB) of a server process, from /proc (Linux). */
function rssOf(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
  } catch {
    return { rss: NaN, peak: NaN };
  }
}

const report = [];
const m = machine();
for (const which of scenarios) {
  const sc = which === 'spam' ? await spamServers() : await affineServers();
  log(`${sc.name}: ${sc.servers.map((s) => s.label).join(', ')}`);
  // Warm-up: JIT, ORT arenas, the scheduler's arrival estimate.
  for (const s of sc.servers) await autocannonRun(s.url + sc.path, sc.body, 16, 2);
  // results[client][conc][server] = per-run results
  const results = {};
  const loadAvg = [];
  for (let run = 0; run < runs; run++) {
    for (const client of clients) {
      for (const c of sc.loads) {
        // Concurrency 1 is the latency check: one client (wrk) is enough.
        if (c === 1 && client !== clients[0]) continue;
        // Alternate the order each run, so drift does not always favour the same server.
        const order = run % 2 === 0 ? sc.servers : [...sc.servers].reverse();
        for (const s of order) {
          const r = await loadOf[client](s.url + sc.path, sc.body, c, duration);
          ((results[client] ??= {})[c] ??= {})[s.label] ??= [];
          results[client][c][s.label].push(r);
          log(
            `${sc.name} run ${run + 1} ${client} c=${c} ${s.label}: ${r.rps.toFixed(0)} req/s p50 ${r.p50} p99 ${r.p99} non2xx ${r.non2xx} err ${r.errors}`,
          );
        }
      }
    }
    loadAvg.push(loadavg()[0]);
  }
  const memory = Object.fromEntries(sc.servers.map((s) => [s.label, rssOf(s.child.pid)]));
  for (const s of sc.servers) await stopServer(s);
  report.push({ sc, results, loadAvg, memory });
}

const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : 'n/a');
const f2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');
const lines = [
  '# Self-tuned defaults against the naive server, FastAPI + PyTorch and the HTTP ceiling (issue #19)',
  '',
  `Machine: ${m.nproc} CPUs (${m.model}), Node ${m.node}; 1-min load average after each run below (nothing else should run).`,
  `Command: \`node bench/fast-defaults.mjs --duration ${duration} --runs ${runs} --clients ${clients.join(',')} --scenarios ${scenarios.join(',')}${before ? ` --before ${before}` : ''}\` (${new Date().toISOString()}).`,
  'Closed loop, one server at a time, every server in every run (order reversed on odd runs); ratios taken within a run, then the median over runs. wrk: 1 thread (bench/wrk/post.lua). The load generator runs on the same 2 CPUs.',
  '',
];
for (const { sc, results, loadAvg, memory } of report) {
  lines.push(`## ${sc.name}`, '', `Load average (1 min) after each run: ${loadAvg.map(f1).join(', ')}.`, '');
  lines.push(
    '| client | conc | server | req/s (median) | p50 ms | p99 ms | ratio to ' +
      sc.base +
      ' | share of HTTP ceiling | non-2xx |',
  );
  lines.push('|---|---|---|---|---|---|---|---|---|');
  for (const [client, byC] of Object.entries(results)) {
    for (const [c, byS] of Object.entries(byC)) {
      for (const [label, rs] of Object.entries(byS)) {
        const ratio = median(rs.map((r, i) => r.rps / byS[sc.base][i].rps));
        const ceil = byS['HTTP ceiling'] ? median(rs.map((r, i) => r.rps / byS['HTTP ceiling'][i].rps)) : NaN;
        lines.push(
          `| ${client} | ${c} | ${label} | ${median(rs.map((r) => r.rps)).toFixed(0)} | ${f2(median(rs.map((r) => r.p50)))} | ${f2(median(rs.map((r) => r.p99)))} | ${f2(ratio)}× | ${(100 * ceil).toFixed(0)}% | ${rs.reduce((n, r) => n + r.non2xx + r.errors, 0)} |`,
        );
      }
    }
  }
  lines.push(
    '',
    'Memory of each server process after all runs (`/proc/PID/status`: VmRSS, and VmHWM = its peak):',
    '',
  );
  lines.push('| server | RSS MiB | peak RSS MiB |', '|---|---|---|');
  for (const [label, mem] of Object.entries(memory))
    lines.push(`| ${label} | ${f1(mem.rss)} | ${f1(mem.peak)} |`);
  lines.push('');
}
writeFileSync(out, lines.join('\n'));
log(`wrote ${out}`);
