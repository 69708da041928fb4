/**
 * Drill 3, limits shared by the replicas: one key on a plan of N requests/s (burst B) is offered
 * about 3N req/s through the load balancer, spread round-robin over the replicas; a second key on
 * a plan with a monthly quota of Q units (1 unit per call) is sent 2Q calls at once.
 *
 * Guarantees. Rate: admitted ≤ B + N × t + 1, t the seconds from the first to the last answer: the
 * token bucket's own bound. It is exact here because every replica takes tokens from the same
 * Redis bucket in one Lua script timed by Redis's clock (no clock skew between replicas); the + 1
 * is the fractional token a bucket may hold. Admitted ≥ 80 % of N × t (or of what was offered, if
 * less) shows the limiter does not refuse what the plan allows. Each replica alone would admit up to B + N × t, three times as
 * much in all. Quota: exactly Q calls answer 200 and the usage rows in PostgreSQL add up to Q.
 */
import { Load, quantile, tally } from './lib/load.js';
import { sleep } from './lib/procs.js';
import type { Rig } from './lib/rig.js';
import { mdTable, type DrillResult, type Guarantee } from './lib/table.js';
import type { Profile } from './profile.js';

export async function limitsDrill(rig: Rig, p: Profile): Promise<DrillResult> {
  const replicas = rig.slots().length;
  const rate = await rig.createKey('drill-rate', 'rate');
  // 3N offered: workers × (1000 / intervalMs) req/s. A long interval with many clients keeps the
  // offered rate when answers are slow (a loaded machine answers in hundreds of ms).
  const intervalMs = 500;
  const workers = Math.ceil((3 * p.rateRps * intervalMs) / 1000);
  const load = new Load({ url: rig.hp.url, key: rate.key, workers, intervalMs });
  await sleep(p.rateS * 1000);
  const samples = await load.stop();
  const first = Math.min(...samples.map((s) => s.at));
  const last = Math.max(...samples.map((s) => s.at + s.ms));
  const spanS = (last - first) / 1000;
  const admitted = samples.filter((s) => s.status === 200);
  const limited = samples.filter((s) => s.status === 429 && s.code === 'rate_limited');
  const other = samples.filter((s) => s.status !== 200 && !(s.status === 429 && s.code === 'rate_limited'));
  const bound = p.rateBurst + p.rateRps * spanS + 1;
  // What the plan must let through: 80 % of N × t, or all that was offered if that is less.
  const floor = Math.min(samples.length, 0.8 * p.rateRps * spanS);

  // Quota: 2Q calls from 2Q/… concurrent clients, as fast as they are answered.
  const quota = await rig.createKey('drill-quota', 'quota');
  const q = p.quotaUnits;
  const qLoad = new Load({ url: rig.hp.url, key: quota.key, workers: 12, intervalMs: 0 });
  while (qLoad.samples.length < 2 * q) await sleep(20);
  const qSamples = await qLoad.stop();
  const q200 = qSamples.filter((s) => s.status === 200).length;
  const qRefused = qSamples.filter((s) => s.status === 429 && s.code === 'quota_exceeded').length;
  const qOther = qSamples.length - q200 - qRefused;
  const qUsage = await rig.usage(quota.id);

  const guarantees: Guarantee[] = [
    {
      name: `rate: admitted across ${replicas} replicas ≤ burst + N × t + 1`,
      ok: admitted.length <= bound && samples.length > 0,
      detail: `${admitted.length} ≤ ${bound.toFixed(1)}`,
    },
    {
      name: 'rate: admitted ≥ 80 % of N × t, or all offered if less (the plan is not under-served)',
      ok: admitted.length >= floor,
      detail: `${admitted.length} ≥ ${floor.toFixed(1)}`,
    },
    {
      name: 'rate: every refusal is 429 rate_limited',
      ok: other.length === 0,
      detail: other.length ? tally(other, (s) => `${s.status} ${s.code ?? ''}`) : 'none other',
    },
    {
      name: `quota: exactly ${q} calls admitted across ${replicas} replicas, the rest 429 quota_exceeded`,
      ok: q200 === q && qOther === 0,
      detail: `${q200} admitted, ${qRefused} quota_exceeded, ${qOther} other`,
    },
    {
      name: 'quota: usage in PostgreSQL adds up to the quota',
      ok: qUsage.units === q && qUsage.rows === q,
      detail: `${qUsage.rows} rows, ${qUsage.units} units`,
    },
  ];
  return {
    drill: 'limits',
    title: `Shared limits across ${replicas} replicas (Redis limiter, PostgreSQL usage)`,
    tables: [
      mdTable(
        [
          'key',
          'plan',
          'offered',
          'admitted',
          'bound',
          'refused',
          'admitted per replica',
          'one replica alone would admit',
          'p99 ms',
        ],
        [
          [
            'rate',
            `${p.rateRps} req/s, burst ${p.rateBurst}`,
            `${samples.length} in ${spanS.toFixed(1)} s`,
            admitted.length,
            `≤ ${bound.toFixed(0)}`,
            `${limited.length} rate_limited`,
            tally(admitted, (s) => s.server),
            `≤ ${(bound - 1).toFixed(0)} each, ${(replicas * (bound - 1)).toFixed(0)} in all`,
            quantile(samples, 0.99),
          ],
          [
            'quota',
            `${q} units/month`,
            `${qSamples.length} at once (12 clients)`,
            q200,
            `= ${q}`,
            `${qRefused} quota_exceeded`,
            tally(
              qSamples.filter((s) => s.status === 200),
              (s) => s.server,
            ),
            `${q} each, ${replicas * q} in all`,
            quantile(qSamples, 0.99),
          ],
        ],
      ),
    ],
    guarantees,
    notes: [`usage rows of the quota key in PostgreSQL: ${qUsage.rows} (${qUsage.units} units).`],
  };
}
