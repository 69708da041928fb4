/**
 * Per-call deadline and cancellation, translated for the core: the gRPC deadline (wall clock)
 * becomes `deadlineMs` on the performance.now() clock, and a cancelled call (client gone, deadline
 * passed) aborts the request's AbortSignal so queued work is dropped.
 */
import type * as grpc from '@grpc/grpc-js';
import { timerDelayMs } from '../../core/timers.js';

/** What both unary and streaming server calls offer. */
export interface ServerCallLike {
  getDeadline(): grpc.Deadline;
  once(event: 'cancelled', listener: () => void): unknown;
}

export interface CallContext {
  deadlineMs?: number;
  signal: AbortSignal;
}

/**
 * The call's deadline on the performance.now() clock; undefined when the client set none. At most
 * 2³¹−1 ms away, the longest a timer waits (src/core/timers.ts); grpc-js's own overflow on longer
 * `grpc-timeout` headers is repaired before it parses them (http2-guard.ts).
 */
function deadlineOf(call: ServerCallLike): number | undefined {
  const d = call.getDeadline();
  const at = d instanceof Date ? d.getTime() : d;
  if (!Number.isFinite(at)) return undefined;
  const left = at - Date.now();
  return performance.now() + (left > 0 ? timerDelayMs(left) : left);
}

export function callContext(call: ServerCallLike): CallContext {
  const controller = new AbortController();
  call.once('cancelled', () => controller.abort());
  const deadlineMs = deadlineOf(call);
  return deadlineMs === undefined ? { signal: controller.signal } : { deadlineMs, signal: controller.signal };
}
