// Process and load helpers of bench/compare.mjs: start a server in its own process and wait for
// readiness, read its RSS from /proc, run a closed-loop client (wrk or autocannon) and `inferd bench`
// (open loop).
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0
    ? NaN
    : s.length % 2
      ? s[(s.length - 1) / 2]
      : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

export const freePort = () =>
  new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

/**
 * `npm start`'s server (package.json, its node flags included) from checkout `root` on `repo`, on
 * `port`, gRPC off, warnings only: the node arguments.
 */
export const npmStartArgs = (root, repo, port) => [
  '--max-semi-space-size=32',
  join(root, 'bin/inferd.js'),
  'serve',
  '--model-repository',
  repo,
  '--auth',
  'off',
  '--host',
  '127.0.0.1',
  '--http-port',
  String(port),
  '--grpc-port',
  '0',
  '--log-level',
  'warn',
];

/**
 * Spawns `node args...` (stderr kept for errors; stdout ignored unless `onStdout` takes it) and waits
 * for /v2/health/ready.
 */
export async function startServer(label, args, { onStdout } = {}) {
  const port = await freePort();
  const child = spawn(process.execPath, args(port), {
    stdio: ['ignore', onStdout ? 'pipe' : 'ignore', 'pipe'],
  });
  if (onStdout) child.stdout.on('data', onStdout);
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${label} exited (${child.exitCode}): ${stderr}`);
    if (Date.now() > deadline) throw new Error(`${label} not ready after 60 s: ${stderr}`);
    try {
      if ((await fetch(`${url}/v2/health/ready`)).status === 200) break;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { label, child, url, stderr: () => stderr };
}

export const stopServer = (s) =>
  new Promise((resolve) => {
    if (s.child.exitCode !== null) return resolve();
    s.child.once('exit', resolve);
    s.child.kill('SIGTERM');
    setTimeout(() => s.child.kill('SIGKILL'), 10_000).unref();
  });

/** Resident and peak resident memory of a process, MiB (Linux /proc). */
export function rssMiB(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
    return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
  } catch {
    return { rss: NaN, peak: NaN };
  }
}

/** One closed-loop autocannon run; throughput counts 2xx answers only. */
export async function autocannonRun(url, body, connections, durationS) {
  const r = await autocannon({
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    connections,
    duration: durationS,
  });
  return {
    rps: r['2xx'] / r.duration,
    p50: r.latency.p50,
    p99: r.latency.p99,
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
  };
}

/** True when the `wrk` load generator (Debian package `wrk`) is on PATH. */
export function hasWrk() {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
    return true;
  } catch (e) {
    // `wrk --version` prints its banner and exits 1; only a missing binary is ENOENT.
    return e.code !== 'ENOENT';
  }
}

let bodyDir;
/**
 * One closed-loop wrk run with one thread (35 µs of CPU per spam request, about half of what
 * autocannon takes from the server's cores), same result shape as autocannonRun. Throughput counts
 * 2xx answers only (wrk counts answers >= 400 as errors).
 */
export function wrkRun(url, body, connections, durationS) {
  bodyDir ??= mkdtempSync(join(tmpdir(), 'inferd-wrk-'));
  const file = join(bodyDir, 'body.json');
  writeFileSync(file, body);
  return new Promise((resolve, reject) => {
    const child = spawn(
      'wrk',
      ['-t1', `-c${connections}`, `-d${durationS}s`, '--timeout', '30s', '-s', 'bench/wrk/post.lua', url],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, WRK_BODY_FILE: file } },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('{"requests"'));
      if (!line) return reject(new Error(`wrk exited ${code}: ${err || out}`));
      const r = JSON.parse(line);
      const s = r.durationUs / 1e6;
      resolve({
        rps: (r.requests - r.status) / s,
        p50: r.p50Us / 1000,
        p99: r.p99Us / 1000,
        non2xx: r.status,
        errors: r.connect + r.read + r.write + r.timeout,
      });
    });
  });
}

/** `inferd bench --json` in a child process (async: the caller samples the server's RSS meanwhile). */
export function inferdBench(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/inferd.js', 'bench', '--json', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => {
      try {
        resolve(JSON.parse(out));
      } catch {
        reject(new Error(`inferd bench exited ${code}: ${err.slice(-2000)}`));
      }
    });
  });
}

/** Runs `node args` to completion and parses its stdout as JSON (the compute-limit baseline). */
export function runJson(args) {
  return JSON.parse(execFileSync(process.execPath, args, { stdio: ['ignore', 'pipe', 'ignore'] }).toString());
}

/** `nproc`, the CPU model (lscpu) and the Node version, for the results header. */
export function machine() {
  let model = 'unknown';
  try {
    model = /Model name:\s*(.+)/.exec(execFileSync('lscpu').toString())?.[1]?.trim() ?? model;
  } catch {
    // no lscpu
  }
  const nproc = execFileSync('nproc').toString().trim();
  return { nproc, model, node: process.version };
}

/**
 * CPU seconds (user + system) a process has used: all threads, and its main thread alone (the
 * event loop). CPU per request is far less sensitive than req/s to other load on a shared machine.
 */
export function cpuSeconds(pid) {
  const ticks = (path) => {
    try {
      // Fields after the command's closing parenthesis; utime and stime are fields 14 and 15.
      const f = readFileSync(path, 'utf8').split(') ')[1].split(' ');
      return (Number(f[11]) + Number(f[12])) / 100;
    } catch {
      return NaN;
    }
  };
  return { total: ticks(`/proc/${pid}/stat`), main: ticks(`/proc/${pid}/task/${pid}/stat`) };
}
