/**
 * Node keeps a timer's delay in a signed 32-bit count of milliseconds: setTimeout with anything
 * longer (24.8 days) waits 1 ms instead, with a TimeoutOverflowWarning. A request `timeout` of
 * 30 days therefore expired at once (issue 23, finding 8). Every delay that comes from a client or
 * a model config goes through `timerDelayMs` before it reaches a timer.
 */

/** The longest delay Node's timers can wait: 2³¹−1 ms, about 24.8 days. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * `ms` bounded to what a timer can wait: at least 0, at most MAX_TIMER_MS. A longer deadline is
 * served as a 24.8-day one, which for a queued request is the same as none.
 */
export function timerDelayMs(ms: number): number {
  if (!(ms > 0)) return 0; // also NaN
  return ms > MAX_TIMER_MS ? MAX_TIMER_MS : ms;
}
