/**
 * Drill sizes. `short` runs in npm test (all four in well under 2 minutes of wall time on the
 * shared 2-core machine); `long` is what the npm scripts run and what bench/results/drills.md shows.
 */
import type { HaproxyOptions } from './lib/haproxy.js';

export interface Profile {
  name: 'short' | 'long';
  /** Keep-alive clients of the steady load, and the pause between one's requests. */
  workers: number;
  intervalMs: number;
  /** Rolling update: steady load before the first replacement and after the last. */
  beforeS: number;
  afterS: number;
  /** Crash: load time before and after the kill -9. */
  crashBeforeS: number;
  crashAfterS: number;
  /** Limits: N req/s and burst of the rate plan, how long it is offered 3N, and the quota. */
  rateRps: number;
  rateBurst: number;
  rateS: number;
  quotaUnits: number;
  /** Scale-out: closed-loop clients and seconds per replica count; seconds per metric phase. */
  scaleWorkers: number;
  scaleS: number;
  metricPhaseS: number;
}

export const PROFILES: Record<'short' | 'long', Profile> = {
  short: {
    name: 'short',
    workers: 6,
    intervalMs: 20,
    beforeS: 3,
    afterS: 2,
    crashBeforeS: 3,
    crashAfterS: 4,
    rateRps: 5,
    rateBurst: 5,
    rateS: 4,
    quotaUnits: 40,
    scaleWorkers: 16,
    scaleS: 3,
    metricPhaseS: 2,
  },
  long: {
    name: 'long',
    workers: 8,
    intervalMs: 10,
    beforeS: 15,
    afterS: 10,
    crashBeforeS: 10,
    crashAfterS: 20,
    rateRps: 20,
    rateBurst: 10,
    rateS: 20,
    quotaUnits: 500,
    scaleWorkers: 24,
    scaleS: 15,
    metricPhaseS: 8,
  },
};

/**
 * The load balancer's readiness checking, standing in for a readinessProbe scaled down 20×
 * (Kubernetes: periodSeconds 10 → 500 ms; failureThreshold 2; successThreshold 1, its only value):
 * a replica leaves within fall × inter ≈ 1 s of turning not-ready.
 */
export const HAPROXY: Omit<HaproxyOptions, 'dir'> = { slots: 6, checkInterMs: 500, fall: 2, rise: 1 };

/**
 * settings.drainDelayMs of the replicas: above the ~1 s the load balancer needs to take a
 * not-ready replica out (fall × inter, plus a check in progress), with margin for a loaded machine.
 */
export const DRAIN_DELAY_MS = 3000;
