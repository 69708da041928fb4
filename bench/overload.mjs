// Overload step of bench/compare.mjs: inferd with dynamic batching under an open-loop arrival rate
// of 10× what it sustained in the closed-loop runs, against the same server at 10% of that rate
// ("unloaded"). Runs alternate unloaded / overloaded; the server's RSS is sampled every 200 ms.
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { inferdBench, median, rssMiB, startServer, stopServer } from './procs.mjs';

const pct = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
};

/**
 * An independent probe in this (otherwise idle) process: one request every `everyMs` over its own
 * keep-alive connection, timed from its own send. The load generator's event loop is saturated at
 * 10× (its send lag shows it), so its timings include its own delays; the probe's do not.
 */
function probe(url, body, everyMs = 20, startAfterMs = 1000) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  const refused = [];
  const admitted = [];
  let timer;
  // The probe starts after the load generator's own start-up (a node process booting and loading
  // its modules on the same 2 cores): started together, the probe's first request took 98–129 ms
  // against 15–30 ms for the rest (cnn at 18 req/s, two trials). The unloaded probe p99s of 44–122 ms
  // in results files before 2026-11-30 session 6 most likely hold that first request.
  const start = setTimeout(() => (timer = setInterval(send, everyMs)), startAfterMs);
  const send = () => {
    const t0 = performance.now();
    const req = http.request(
      url,
      { method: 'POST', agent, headers: { 'content-type': 'application/json' } },
      (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 503 ? refused : admitted).push(performance.now() - t0));
      },
    );
    req.on('error', () => {});
    req.end(body);
  };
  return () => {
    clearTimeout(start);
    clearInterval(timer);
    agent.destroy();
    return { refused, admitted };
  };
}

const fmt = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');

export async function overload({ m, repo, config, reqFile, sustainable, duration, inferdArgs, runs = 3 }) {
  const server = await startServer('inferd (dynamic batching)', inferdArgs(repo));
  const body = readFileSync(reqFile);
  const common = ['--url', server.url, '--model', m.name, '--input', reqFile, '--duration', String(duration)];
  const low = Math.max(1, Math.round(sustainable / 10));
  // The probe adds 5% of the sustainable rate at most (50 req/s for fast models), so that it does
  // not itself load the "unloaded" server.
  const probeEveryMs = Math.max(20, Math.round(1000 / (0.05 * sustainable)));
  const high = Math.round(sustainable * 10);
  const rows = [];
  const rssBefore = rssMiB(server.child.pid).rss;
  for (let run = 1; run <= runs; run++) {
    for (const rate of [low, high]) {
      let maxRss = 0;
      const sampler = setInterval(() => (maxRss = Math.max(maxRss, rssMiB(server.child.pid).rss)), 200);
      const stopProbe = probe(`${server.url}/v2/models/${m.name}/infer`, body, probeEveryMs);
      const report = await inferdBench([...common, '--rate', String(rate)]);
      const probed = stopProbe();
      clearInterval(sampler);
      const s = report.steps[0];
      const refused = Object.entries(s.errors)
        .filter(([k]) => k.includes('queue_full'))
        .reduce((n, [, v]) => n + v, 0);
      rows.push({ run, rate, s, refused, other: s.failed - refused, maxRss, probed });
      process.stderr.write(
        `[overload] run ${run} rate ${rate}/s: ok ${s.ok} refused ${refused} p99 ${fmt(s.latencyMs.p99)} ms ` +
          `refusal p99 ${fmt(s.refusalMs.p99)} ms lag p99 ${fmt(s.sendLagMs?.p99)} ms RSS ${fmt(maxRss)} MiB\n`,
      );
    }
  }
  const live = (await fetch(`${server.url}/v2/health/live`).catch(() => ({ status: 0 }))).status === 200;
  const rssAfter = rssMiB(server.child.pid).rss;
  await stopServer(server);

  const at = (rate) => rows.filter((r) => r.rate === rate);
  const unloadedP99 = median(at(low).map((r) => r.s.latencyMs.p99));
  const loadedP99 = median(at(high).map((r) => r.s.latencyMs.p99));
  const lines = [
    `## Overload: ${m.name}, inferd with dynamic batching, open loop (\`inferd bench --rate\`)`,
    '',
    `Model config: \`${JSON.stringify(config)}\` (the closed-loop runs above use the default queue bound instead, so that 64 clients are never refused). ` +
      `Sustainable rate = median closed-loop throughput of inferd with dynamic batching at concurrency 64 = ${fmt(sustainable, 0)} req/s. ` +
      `Unloaded = ${low} req/s (10%), overload = ${high} req/s (10×), ${duration} s each, ${runs} runs alternating. ` +
      `Latency is measured from each request's scheduled send time; "send lag" shows how far the load generator itself fell behind (it shares the 2 CPUs with the server).`,
    '',
    '| run | offered req/s | sent | admitted ok | refused (503 queue_full) | other errors | admitted p50 ms | admitted p99 ms | refusal p50 ms | refusal p99 ms | refusal from actual send p50 / p99 ms | send lag p99 ms | probe: refused n, p50 / p99 ms | probe: admitted n, p50 / p99 ms | server max RSS MiB |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.run} | ${r.rate} | ${r.s.sent} | ${r.s.ok} | ${r.refused} | ${r.other} | ${fmt(r.s.latencyMs.p50)} | ${fmt(r.s.latencyMs.p99)} | ` +
        `${r.s.refusalMs.count ? fmt(r.s.refusalMs.p50, 2) : '-'} | ${r.s.refusalMs.count ? fmt(r.s.refusalMs.p99, 2) : '-'} | ` +
        `${r.s.refusalMs.count ? `${fmt(r.s.refusalFromSendMs.p50, 2)} / ${fmt(r.s.refusalFromSendMs.p99, 2)}` : '-'} | ${fmt(r.s.sendLagMs?.p99)} | ` +
        `${r.probed.refused.length}, ${fmt(pct(r.probed.refused, 0.5), 2)} / ${fmt(pct(r.probed.refused, 0.99), 2)} | ` +
        `${r.probed.admitted.length}, ${fmt(pct(r.probed.admitted, 0.5))} / ${fmt(pct(r.probed.admitted, 0.99))} | ${fmt(r.maxRss, 0)} |`,
    ),
    '',
    `Medians: unloaded p99 ${fmt(unloadedP99)} ms; overloaded admitted p99 ${fmt(loadedP99)} ms (${fmt(loadedP99 / unloadedP99, 2)}× unloaded); ` +
      `refusal latency p50 ${fmt(median(at(high).map((r) => r.s.refusalMs.p50)), 2)} ms, p99 ${fmt(median(at(high).map((r) => r.s.refusalMs.p99)), 2)} ms ` +
      `(from actual send: p50 ${fmt(median(at(high).map((r) => r.s.refusalFromSendMs.p50)), 2)} ms, p99 ${fmt(median(at(high).map((r) => r.s.refusalFromSendMs.p99)), 2)} ms). ` +
      `Probe (independent client, one request every ${probeEveryMs} ms, see overload.mjs) during overload: refusal p50 ${fmt(median(at(high).map((r) => pct(r.probed.refused, 0.5))), 2)} ms, ` +
      `p99 ${fmt(median(at(high).map((r) => pct(r.probed.refused, 0.99))), 2)} ms; admitted p99 ${fmt(median(at(high).map((r) => pct(r.probed.admitted, 0.99))))} ms ` +
      `vs unloaded probe p99 ${fmt(median(at(low).map((r) => pct(r.probed.admitted, 0.99))))} ms. ` +
      `Server RSS: ${fmt(rssBefore, 0)} MiB before, max ${fmt(Math.max(...rows.map((r) => r.maxRss)), 0)} MiB during, ${fmt(rssAfter, 0)} MiB after; live after the overload: ${live ? 'yes' : 'NO'}.`,
    '',
  ];
  return { rows, unloadedP99, loadedP99, live, markdown: lines.join('\n') };
}
