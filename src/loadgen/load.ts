/**
 * The two load shapes of `inferd bench`:
 * - closed loop: `concurrency` callers, each sends its next request when the previous answers;
 * - open loop: requests leave at a constant rate whatever the server does; latency is measured from
 *   the *scheduled* send time, so a client that falls behind still charges the wait to the server
 *   (no coordinated omission).
 * Contract: when a step ends every request it sent is accounted for: sent = ok + sum(errors).
 */
import { ClientError, type ClientRequest, type InferClient } from '../oip-client/types.js';
import type { Tensor } from '../core/tensor.js';
import { LatencyRecorder, type LatencySummary } from './latency.js';
import { outputMismatch } from './output-check.js';

/** The error key of an answer that fails its validation_data. */
export const OUTPUT_MISMATCH = 'output mismatch';

/** Codes that mean "the server refused, come back later" (load shedding), not a failure. */
const REFUSAL_CODES = new Set(['queue_full', 'rate_limited', 'quota_exceeded', 'server_draining']);

export interface StepCounters {
  sent: number;
  ok: number;
  /** "<status> <code>" (e.g. "503 queue_full"), "timeout" or "network <errno>" → count. */
  errors: Record<string, number>;
  latency: LatencySummary;
  /** Latency of the refused requests alone, from the scheduled send time. */
  refusals: LatencySummary;
  /** Refused requests from their actual send: the server's shedding time without client lag. */
  refusalsFromSend: LatencySummary;
  /** Seconds from the first send to the last answer. */
  elapsedS: number;
  /**
   * Open loop only: how late requests actually left versus their schedule. A large p99 means the
   * load generator (not the server) could not keep the rate, and latencies include that lag.
   */
  sendLag?: LatencySummary;
}

export interface LoadOptions {
  client: InferClient;
  /** Sent round-robin; usually one. */
  requests: readonly ClientRequest[];
  /** perf_analyzer's validation_data: the outputs the answer to requests[i] must hold. */
  expected?: ReadonlyArray<readonly Tensor[]>;
  durationMs: number;
  /** Longest wait for one answer; the step then counts it as "timeout". */
  timeoutMs: number;
  /** Called about once a second while the step runs. */
  onProgress?: (c: { elapsedS: number; sent: number; ok: number; failed: number }) => void;
}

function errorKey(err: unknown): string {
  if (err instanceof ClientError) return `${err.status} ${err.code}`;
  const e = err as { name?: string; code?: string; cause?: { code?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return 'timeout';
  return `network ${e?.cause?.code ?? e?.code ?? e?.name ?? 'error'}`;
}

class Tally {
  sent = 0;
  ok = 0;
  failed = 0;
  readonly errors: Record<string, number> = {};
  readonly latency = new LatencyRecorder();
  readonly refusals = new LatencyRecorder();
  readonly refusalsFromSend = new LatencyRecorder();
  readonly lag = new LatencyRecorder();

  /** Sends one request; `fromMs` is when it should have left (performance.now() clock). */
  async call(o: LoadOptions, fromMs: number, openLoop = false): Promise<void> {
    const index = this.sent % o.requests.length;
    this.sent += 1;
    const sentAt = performance.now();
    if (openLoop) this.lag.record(sentAt - fromMs);
    try {
      const answer = await o.client.infer(o.requests[index]!, { timeoutMs: o.timeoutMs });
      if (o.expected && outputMismatch(o.expected[index]!, answer.outputs) !== undefined) {
        this.failed += 1;
        this.errors[OUTPUT_MISMATCH] = (this.errors[OUTPUT_MISMATCH] ?? 0) + 1;
        return;
      }
      this.ok += 1;
      this.latency.record(performance.now() - fromMs);
    } catch (err) {
      this.failed += 1;
      const key = errorKey(err);
      this.errors[key] = (this.errors[key] ?? 0) + 1;
      if (err instanceof ClientError && REFUSAL_CODES.has(err.code)) {
        const now = performance.now();
        this.refusals.record(now - fromMs);
        this.refusalsFromSend.record(now - sentAt);
      }
    }
  }

  result(startMs: number): StepCounters {
    return {
      sent: this.sent,
      ok: this.ok,
      errors: { ...this.errors },
      latency: this.latency.summary(),
      refusals: this.refusals.summary(),
      refusalsFromSend: this.refusalsFromSend.summary(),
      elapsedS: (performance.now() - startMs) / 1000,
      ...(this.lag.count > 0 ? { sendLag: this.lag.summary() } : {}),
    };
  }
}

function progressTicker(o: LoadOptions, t: Tally, startMs: number): () => void {
  if (!o.onProgress) return () => {};
  const timer = setInterval(() => {
    o.onProgress!({
      elapsedS: (performance.now() - startMs) / 1000,
      sent: t.sent,
      ok: t.ok,
      failed: t.failed,
    });
  }, 1000);
  return () => clearInterval(timer);
}

export async function closedLoop(o: LoadOptions, concurrency: number): Promise<StepCounters> {
  const t = new Tally();
  const start = performance.now();
  const end = start + o.durationMs;
  const stop = progressTicker(o, t, start);
  const caller = async (): Promise<void> => {
    while (performance.now() < end) await t.call(o, performance.now());
  };
  await Promise.all(Array.from({ length: concurrency }, caller));
  stop();
  return t.result(start);
}

/**
 * Constant arrival rate `rate` req/s. A 1 ms timer sends every request that is due, so sends are
 * at most ~1 ms late and that lateness is counted in their latency.
 */
export async function openLoop(o: LoadOptions, rate: number): Promise<StepCounters> {
  const t = new Tally();
  const start = performance.now();
  const total = Math.max(1, Math.round((rate * o.durationMs) / 1000));
  const interval = 1000 / rate;
  const stop = progressTicker(o, t, start);
  const inflight = new Set<Promise<void>>();
  let next = 0;
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const now = performance.now();
      while (next < total && start + next * interval <= now) {
        const p = t.call(o, start + next * interval, true).finally(() => inflight.delete(p));
        inflight.add(p);
        next += 1;
      }
      if (next >= total) resolve();
      else setTimeout(tick, Math.max(0, Math.min(1, start + next * interval - performance.now())));
    };
    tick();
  });
  while (inflight.size > 0) await Promise.all([...inflight]);
  stop();
  return t.result(start);
}
