/**
 * Drill 4, scale-out: closed-loop load (clients send again as soon as answered) through the load
 * balancer with 1, 2 and 3 replicas in it, and the autoscaler's signal, inferd_pending_requests
 * (requests queued or executing, per replica, from each replica's /metrics), sampled every 250 ms
 * while the load is off, on, and off again. Everything shares this machine's cores: the load
 * generator, HAProxy and the replicas, so throughput cannot grow with replicas as it would with a
 * node each; the table reports what it measured. Guarantees: no failed request, and the signal
 * rises under load and falls back after it.
 */
import { Load, quantile, type Sample } from './lib/load.js';
import { sleep } from './lib/procs.js';
import type { Rig } from './lib/rig.js';
import { mdTable, type DrillResult, type Guarantee } from './lib/table.js';
import type { Profile } from './profile.js';

/** Sum of inferd_pending_requests over a replica's model versions (Prometheus text format). */
async function pending(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let sum = 0;
  for (const m of text.matchAll(/^inferd_pending_requests\{[^}]*\} (\S+)$/gm)) sum += Number(m[1]);
  return sum;
}

export async function scaleDrill(rig: Rig, p: Profile): Promise<DrillResult> {
  const { key } = await rig.createKey('drill-scale', 'unlimited');
  const all = rig.slots();
  const rows: Array<Array<string | number>> = [];
  const failures: Sample[] = [];
  // 1, then 2, then 3 replicas in the balancer (the others idle, out of it).
  for (const slot of all.slice(1)) await rig.hp.detach(slot);
  for (let n = 1; n <= all.length; n++) {
    if (n > 1) {
      const slot = all[n - 1]!;
      await rig.hp.command(`set server be/s${slot} state ready`);
      await rig.hp.waitStatus(slot, 'UP');
    }
    const load = new Load({ url: rig.hp.url, key, workers: p.scaleWorkers, intervalMs: 0 });
    // The first second warms connections and JIT; the rest is measured.
    await sleep(1000);
    const from = load.now();
    await sleep(p.scaleS * 1000);
    const to = load.now();
    const samples = (await load.stop()).filter((s) => s.at >= from && s.at < to);
    const ok = samples.filter((s) => s.status === 200);
    failures.push(...samples.filter((s) => s.status !== 200));
    rows.push([
      n,
      p.scaleWorkers,
      ok.length / ((to - from) / 1000),
      quantile(ok, 0.5),
      quantile(ok, 0.99),
      samples.length - ok.length,
    ]);
  }
  const base = rows[0]![2] as number;
  for (const r of rows) r.push(`${((r[2] as number) / base).toFixed(2)}×`);

  // The autoscaler's signal: off, on, off.
  const urls = all.map((s) => rig.replicaAt(s).url);
  const metricRows: Array<Array<string | number>> = [];
  const means: number[] = [];
  for (const [name, on] of [
    ['no load', false],
    [`${p.scaleWorkers} clients`, true],
    ['no load again', false],
  ] as const) {
    const load = on ? new Load({ url: rig.hp.url, key, workers: p.scaleWorkers, intervalMs: 0 }) : undefined;
    if (on) await sleep(500);
    const values: number[] = [];
    const end = performance.now() + p.metricPhaseS * 1000;
    while (performance.now() < end) {
      // Per replica: the value a per-pod metric (HPA Pods type, KEDA per-replica target) averages.
      const per = await Promise.all(urls.map(pending));
      values.push(per.reduce((a, b) => a + b, 0) / per.length);
      await sleep(250);
    }
    const samples = load ? await load.stop() : [];
    failures.push(...samples.filter((s) => s.status !== 200));
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    means.push(mean);
    metricRows.push([
      name,
      values.length,
      mean,
      Math.max(...values),
      values.map((v) => v.toFixed(1)).join(' '),
    ]);
  }
  const guarantees: Guarantee[] = [
    {
      name: 'no request fails while replicas join',
      ok: failures.length === 0,
      detail: `${failures.length} failed`,
    },
    {
      name: 'inferd_pending_requests per replica rises under load and falls after it',
      ok: means[1]! > means[0]! && means[1]! > means[2]! && means[2]! < 1,
      detail: `mean ${means.map((m) => m.toFixed(2)).join(' → ')}`,
    },
  ];
  return {
    drill: 'scale',
    title: `Scale-out: 1, 2 and 3 replicas, ${p.scaleWorkers} closed-loop clients, all on this machine's cores`,
    tables: [
      mdTable(['replicas', 'clients', 'req/s', 'p50 ms', 'p99 ms', 'failed', 'vs 1 replica'], rows),
      mdTable(
        ['phase', 'scrapes', 'mean pending per replica', 'max', 'values (every 250 ms + scrape time)'],
        metricRows,
      ),
    ],
    guarantees,
    notes: [
      'HAProxy, the load generator and the replicas share the same cores: a replica more adds a process competing for them, not a core.',
    ],
  };
}
