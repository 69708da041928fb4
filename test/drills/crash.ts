/**
 * Drill 2, a replica crashes: two keys' SDK clients (sdk/index.ts: retries 503 and 429 with
 * backoff) keep the replicas busy through the load balancer; one replica gets kill -9, and, as a
 * kubelet would, a new one starts in its place. Requests in flight on the dead replica are retried
 * by the balancer on another (retry-on empty-response / conn-failure, redispatch), so guarantees:
 * no call fails, and per key every 200 the clients received has its usage row in PostgreSQL
 * (a row is committed before its response is sent). Rows beyond the 200s are possible and shown:
 * a request the dead replica had metered but not answered, then retried elsewhere.
 */
import { quantile, SdkLoad, tally, type Sample } from './lib/load.js';
import { sleep } from './lib/procs.js';
import type { Rig } from './lib/rig.js';
import { mdTable, type DrillResult, type Guarantee } from './lib/table.js';
import type { Profile } from './profile.js';

export async function crashDrill(rig: Rig, p: Profile): Promise<DrillResult> {
  const keys = [
    await rig.createKey('drill-crash-a', 'unlimited'),
    await rig.createKey('drill-crash-b', 'unlimited'),
  ];
  const workers = Math.max(1, Math.floor(p.workers / 2));
  const loads = keys.map(
    (k) => new SdkLoad({ url: rig.hp.url, key: k.key, workers, intervalMs: p.intervalMs }),
  );
  await sleep(p.crashBeforeS * 1000);
  const victimSlot = rig.slots()[1]!;
  const victim = rig.replicaAt(victimSlot);
  const killAt = loads[0]!.now();
  victim.proc.kill('SIGKILL');
  const downMs = await rig.hp.waitStatus(victimSlot, 'DOWN');
  await rig.release(victimSlot);
  // The restarted container: a new process (new port) takes the dead one's place while the load
  // goes on.
  const restartT = loads[0]!.now();
  const restart = rig
    .addReplica(victim.version)
    .then((r) => ({ ...r, startS: (loads[0]!.now() - restartT) / 1000 }));
  // Awaited below; a failure to start must not be an unhandled rejection meanwhile.
  restart.catch(() => undefined);
  await sleep(p.crashAfterS * 1000);
  const { slot: newSlot, replica: restarted, startS: restartS } = await restart;
  const all = await Promise.all(loads.map((l) => l.stop()));

  const rows: Array<Array<string | number>> = [];
  const guarantees: Guarantee[] = [];
  let failedTotal = 0;
  let lostTotal = 0;
  const failures: Sample[] = [];
  for (let i = 0; i < keys.length; i++) {
    const samples = all[i]!;
    const acked = samples.filter((s) => s.status === 200).length;
    const failed = samples.filter((s) => s.status !== 200);
    failures.push(...failed);
    const usage = await rig.usage(keys[i]!.id);
    const lost = Math.max(0, acked - usage.rows);
    failedTotal += failed.length;
    lostTotal += lost;
    rows.push([`key ${i + 1}`, samples.length, acked, failed.length, usage.rows, lost, usage.rows - acked]);
  }
  guarantees.push(
    {
      name: 'no client call fails across the kill -9',
      ok: failedTotal === 0 && all.flat().length > 0,
      detail: `${all.flat().length} calls, ${failedTotal} failed${
        failedTotal ? ` (${tally(failures, (s) => `${s.status} ${s.code ?? ''}`)})` : ''
      }`,
    },
    {
      name: 'no acknowledged usage record is lost (per key: rows ≥ 200s)',
      ok: lostTotal === 0,
      detail: `${lostTotal} lost`,
    },
  );
  const flat = all.flat();
  const before = flat.filter((s) => s.at < killAt);
  const around = flat.filter((s) => s.at >= killAt && s.at < killAt + 2000);
  const later = flat.filter((s) => s.at >= killAt + 2000);
  const phase = (name: string, ss: Sample[]): Array<string | number> => [
    name,
    ss.length,
    ss.filter((s) => s.status !== 200).length,
    quantile(ss, 0.5),
    quantile(ss, 0.99),
    quantile(ss, 1),
  ];
  return {
    drill: 'crash',
    title: `Crash: kill -9 of 1 of ${rig.slots().length} replicas under load, ${keys.length} keys × ${workers} SDK clients`,
    tables: [
      mdTable(
        ['key', 'calls', '200 (acknowledged)', 'failed', 'usage rows (2xx)', 'lost', 'extra rows'],
        rows,
      ),
      mdTable(
        ['phase', 'calls', 'failed', 'p50 ms', 'p99 ms', 'max ms'],
        [phase('before the kill', before), phase('first 2 s after', around), phase('later', later)],
      ),
    ],
    guarantees,
    notes: [
      `s${victimSlot} (pid ${victim.proc.pid}) killed; the balancer marked it DOWN after ${(downMs / 1000).toFixed(1)} s; its replacement s${newSlot} (pid ${restarted.proc.pid}) was serving ${restartS.toFixed(1)} s after the kill was noticed.`,
    ],
  };
}
