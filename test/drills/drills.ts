/**
 * The drills by name (npm run drill:<name>), and the order `all` runs them in on one rig: limits
 * and scale need the 3 replicas as started, crash replaces one, rolling replaces all three.
 */
import { crashDrill } from './crash.js';
import { limitsDrill } from './limits.js';
import { Rig } from './lib/rig.js';
import type { DrillResult } from './lib/table.js';
import { DRAIN_DELAY_MS, HAPROXY, type Profile } from './profile.js';
import { rollingDrill } from './rolling.js';
import { scaleDrill } from './scale.js';

export const DRILLS = {
  limits: limitsDrill,
  scale: scaleDrill,
  crash: crashDrill,
  rolling: rollingDrill,
} satisfies Record<string, (rig: Rig, p: Profile) => Promise<DrillResult>>;

export type DrillName = keyof typeof DRILLS;

/**
 * Starts a rig (HAProxy and 3 replicas on model version 1) and runs the drills in order on it,
 * handing each result to `onResult` as it comes. Every process is killed at the end.
 */
export async function runDrills(
  names: readonly DrillName[],
  p: Profile,
  onResult: (r: DrillResult) => void,
  shutdown: { drainDelayMs?: number; preStopMs?: number } = {},
): Promise<DrillResult[]> {
  const plans = { rateRps: p.rateRps, rateBurst: p.rateBurst, quotaUnits: p.quotaUnits };
  const drainDelayMs = shutdown.drainDelayMs ?? DRAIN_DELAY_MS;
  const preStopMs = shutdown.preStopMs ?? 0;
  return Rig.with({ plans, drainDelayMs, preStopMs, haproxy: HAPROXY }, async (rig) => {
    await rig.scaleUp(3, 1);
    const results: DrillResult[] = [];
    for (const name of names) {
      const r = await DRILLS[name](rig, p);
      results.push(r);
      onResult(r);
    }
    return results;
  });
}
