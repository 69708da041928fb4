/**
 * Drill 1, the rolling update (a Deployment with maxSurge 1, maxUnavailable 0): 3 replicas on
 * model version 1 under steady keep-alive load; each in turn, a new replica on version 2 starts
 * and joins once ready, then the old one gets SIGTERM. It turns not-ready, the load balancer's
 * readiness check takes it out, and it keeps serving what still arrives for drainDelayMs
 * before it drains and exits (or, with a preStop sleep, the slot leaves the balancer first, then
 * SIGTERM after the sleep). Guarantee: every request succeeds; every old replica exits 0; after
 * the roll every answer comes from version 2. Reported: p50/p99 before, during and after.
 */
import { Load, quantile, tally, type Sample } from './lib/load.js';
import { exitOf, sleep } from './lib/procs.js';
import type { Rig } from './lib/rig.js';
import { mdTable, type DrillResult, type Guarantee } from './lib/table.js';
import type { Profile } from './profile.js';

export async function rollingDrill(rig: Rig, p: Profile): Promise<DrillResult> {
  const olds = rig.slots();
  const { key } = await rig.createKey('drill-rolling', 'unlimited');
  const load = new Load({ url: rig.hp.url, key, workers: p.workers, intervalMs: p.intervalMs });
  await sleep(p.beforeS * 1000);
  const rollStart = load.now();
  const steps: Array<Array<string | number>> = [];
  const exits: Array<Promise<string>> = [];
  const from = rig.replicaAt(olds[0]!).version;
  const to = from === 1 ? 2 : 1;
  for (const slot of olds) {
    const old = rig.replicaAt(slot);
    const t = load.now();
    // maxSurge 1, maxUnavailable 0: the new pod first, serving once its readiness passes.
    const fresh = await rig.addReplica(to);
    const ready = load.now();
    let leftMs = 0;
    if (rig.preStopMs > 0) {
      // Deleting the old pod with a preStop sleep (deploy/kubernetes): the endpoint leaves at once
      // (HAProxy's drain state: no new requests), the pod serves what it has, then SIGTERM.
      await rig.hp.command(`set server be/s${slot} state drain`);
      await sleep(rig.preStopMs);
      old.proc.kill('SIGTERM');
    } else {
      // Deleting the old pod without preStop: SIGTERM at once; the balancer learns from readiness,
      // and drainDelayMs keeps the replica serving until it has.
      old.proc.kill('SIGTERM');
      leftMs = await rig.hp.waitStatus(slot, 'DOWN');
    }
    exits.push(exitOf(old.proc).then((e) => (e.code === 0 ? 'exit 0' : `exit ${e.code ?? e.signal ?? '?'}`)));
    steps.push([`s${slot} → s${fresh.slot}`, (ready - t) / 1000, leftMs / 1000]);
  }
  const exitCodes = await Promise.all(exits);
  for (const slot of olds) await rig.release(slot);
  const rollEnd = load.now();
  await sleep(p.afterS * 1000);
  const samples = await load.stop();

  const phases: Array<[string, Sample[], number]> = [
    [`before (${olds.length} × v${from})`, samples.filter((s) => s.at < rollStart), rollStart],
    ['during the roll', samples.filter((s) => s.at >= rollStart && s.at < rollEnd), rollEnd - rollStart],
    [`after (${olds.length} × v${to})`, samples.filter((s) => s.at >= rollEnd), load.now() - rollEnd],
  ];
  const failed = (ss: Sample[]): Sample[] => ss.filter((s) => s.status !== 200);
  const table = mdTable(
    ['phase', 's', 'requests', 'failed', 'p50 ms', 'p99 ms', 'max ms', 'model versions', 'replicas'],
    phases.map(([name, ss, ms]) => [
      name,
      ms / 1000,
      ss.length,
      failed(ss).length,
      quantile(ss, 0.5),
      quantile(ss, 0.99),
      quantile(ss, 1),
      tally(ss, (s) => (s.version ? `v${s.version}` : undefined)),
      tally(ss, (s) => s.server),
    ]),
  );
  const stepTable = mdTable(
    ['replacement', 'new replica ready and UP (s)', 'old replica out of the balancer after SIGTERM (s)'],
    steps,
  );
  const allFailed = failed(samples);
  const after = phases[2]![1];
  const guarantees: Guarantee[] = [
    {
      name: 'every request succeeds during the rolling update',
      ok: allFailed.length === 0 && samples.length > 0,
      detail: `${samples.length} requests, ${allFailed.length} failed${
        allFailed.length ? ` (${tally(allFailed, (s) => `${s.status} ${s.code ?? ''}`)})` : ''
      }`,
    },
    {
      name: 'every old replica drains and exits 0',
      ok: exitCodes.every((e) => e === 'exit 0'),
      detail: exitCodes.join(', '),
    },
    {
      name: `after the roll every answer is from model version ${to}`,
      ok: after.length > 0 && after.every((s) => s.version === String(to)),
      detail: tally(after, (s) => (s.version ? `v${s.version}` : 'none')),
    },
  ];
  return {
    drill: 'rolling',
    title: `Rolling update: ${olds.length} replicas, v${from} → v${to}, ${p.workers} keep-alive clients (drainDelayMs ${rig.drainDelayMs}${rig.preStopMs ? `, preStop sleep ${rig.preStopMs} ms` : ''})`,
    tables: [table, stepTable],
    guarantees,
    notes: [
      ...(rig.drainDelayMs === 0 && rig.preStopMs === 0
        ? [
            'control run: no drain delay and no preStop sleep, so requests sent before the balancer notices fail.',
          ]
        : []),
      `p99 before ${quantile(phases[0]![1], 0.99).toFixed(1)} ms, during ${quantile(phases[1]![1], 0.99).toFixed(1)} ms.`,
    ],
  };
}
