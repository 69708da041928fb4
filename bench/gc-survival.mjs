// Young-generation survival of the event loop under a closed loop: what V8's scavenges copy and
// promote per request, and how long they pause the event loop. A request's objects should die
// young; anything that keeps them past a scavenge costs copying, old-space growth and concurrent
// marking on the helper threads that the event loop and ONNX Runtime need.
// Starts `npm start`'s command with --trace-gc-nvp (the shipped models/ unless --models DIR), loads
// the spam model with one connection (wrk, or the body's own client without wrk), and summarises
// the main isolate's scavenges during the load. With --before DIR the same from another checkout,
// side by side.
// Usage: npm run build && node bench/gc-survival.mjs [--duration 6] [--connections 1]
//          [--before /path/to/checkout] [--models models]
import { resolve } from 'node:path';
import { hasWrk, machine, median, npmStartArgs, startServer, stopServer, wrkRun } from './procs.mjs';

const argv = process.argv.slice(2);
const opt = (name, dflt) => (argv.includes(`--${name}`) ? argv[argv.indexOf(`--${name}`) + 1] : dflt);
const duration = Number(opt('duration', '6'));
const connections = Number(opt('connections', '1'));
const before = opt('before', undefined);
const models = resolve(opt('models', 'models'));
if (!hasWrk()) throw new Error('wrk is not installed (apt-get install wrk)');
const body = JSON.stringify({
  inputs: [
    { name: 'text', shape: [1], datatype: 'BYTES', data: ['WINNER! Claim your free prize now, reply YES'] },
  ],
});

/** One server from `root`, loaded for `duration` s; the scavenges of its main isolate meanwhile. */
async function measure(label, root) {
  let out = '';
  let loading = false;
  const server = await startServer(label, (port) => ['--trace-gc-nvp', ...npmStartArgs(root, models, port)], {
    onStdout: (d) => {
      if (loading) out += d;
    },
  });
  const url = server.url;
  await wrkRun(`${url}/v2/models/spam/infer`, body, connections, 2); // warm-up, not counted
  loading = true;
  const load = await wrkRun(`${url}/v2/models/spam/infer`, body, connections, duration);
  loading = false;
  await stopServer(server);
  // --trace-gc-nvp prints one line per GC: "[pid:isolate] ms: pause=… gc=s … promoted=… ".
  const lines = out.split('\n').filter((l) => l.includes(' gc=s '));
  const byIsolate = new Map();
  for (const l of lines) {
    const iso = l.slice(0, l.indexOf(']') + 1);
    byIsolate.set(iso, [...(byIsolate.get(iso) ?? []), l]);
  }
  // The event loop's isolate allocates the most: the one with the most scavenged bytes.
  const field = (l, k) => Number(new RegExp(`\\b${k}=([\\d.]+)`).exec(l)?.[1] ?? NaN);
  const main =
    [...byIsolate.values()].sort(
      (a, b) =>
        b.reduce((n, l) => n + field(l, 'allocated'), 0) - a.reduce((n, l) => n + field(l, 'allocated'), 0),
    )[0] ?? [];
  const requests = load.rps * duration;
  return {
    label,
    rps: load.rps,
    p50: load.p50,
    p99: load.p99,
    scavenges: main.length,
    pauseMs: median(main.map((l) => field(l, 'pause'))),
    pauseMaxMs: Math.max(...main.map((l) => field(l, 'pause'))),
    survivedKiB: median(main.map((l) => field(l, 'new_space_survived') / 1024)),
    promotedKiB: median(main.map((l) => field(l, 'promoted') / 1024)),
    allocatedPerRequestKiB: main.reduce((n, l) => n + field(l, 'allocated'), 0) / 1024 / requests,
  };
}

const rows = [await measure('this checkout', process.cwd())];
if (before) rows.push(await measure(`before (${before})`, before));
const m = machine();
const f = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
console.log(`Machine: ${m.nproc} CPUs (${m.model}), Node ${m.node}. ${new Date().toISOString()}`);
console.log(
  `Command: \`node bench/gc-survival.mjs --duration ${duration} --connections ${connections}${before ? ` --before ${before}` : ''}\``,
);
console.log('');
console.log(
  '| server | req/s | p50 ms | p99 ms | scavenges | pause median / max ms | survived per scavenge KiB (median) | promoted per scavenge KiB (median) | allocated per request KiB |',
);
console.log('|---|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(
    `| ${r.label} | ${f(r.rps, 0)} | ${f(r.p50, 2)} | ${f(r.p99, 2)} | ${r.scavenges} | ${f(r.pauseMs)} / ${f(r.pauseMaxMs)} | ${f(r.survivedKiB)} | ${f(r.promotedKiB)} | ${f(r.allocatedPerRequestKiB)} |`,
  );
}
