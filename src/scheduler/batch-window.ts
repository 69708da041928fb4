/**
 * The adaptive batch window: when an instance is free and the queue holds fewer rows than a full
 * batch, wait only when waiting is expected to pay. Dispatching now is right when the free
 * instances, running batches of the size already queued, serve rows faster than they arrive:
 * waiting would only add latency. When rows arrive faster than that, the batch that keeps up is
 * larger; wait for it, but never longer than it takes those rows to arrive, than one execution of
 * it, nor than the configured bound (`max_queue_delay_microseconds`). Pure functions plus a small
 * arrival-rate estimator; the scheduler calls them.
 */

export interface WindowInput {
  /** Rows queued and compatible with the head (what would go now). */
  queuedRows: number;
  maxBatchSize: number;
  /** Arrival rate, rows per ms (ArrivalRate.perMs). */
  arrivalPerMs: number;
  /** Execution time (ms) of a batch of `rows`. */
  execMs: (rows: number) => number;
  /** Execution slots that could take a batch now (≥ 1 when asked). */
  freeSlots: number;
  /** How long the head has waited already (ms). */
  waitedMs: number;
  /** The configured bound (ms). */
  maxDelayMs: number;
}

/** Waits shorter than this are not worth a timer (ms). */
const MIN_WAIT_MS = 0.02;

/** Rows per ms that `slots` instances serve at batch `rows`. */
function served(rows: number, slots: number, execMs: (rows: number) => number): number {
  const t = execMs(rows);
  return t <= 0 ? Infinity : (slots * rows) / t;
}

/** Milliseconds to keep waiting for more rows; 0 = dispatch now. */
export function batchWait(i: WindowInput): number {
  const budget = i.maxDelayMs - i.waitedMs;
  if (budget <= MIN_WAIT_MS || i.queuedRows >= i.maxBatchSize || i.arrivalPerMs <= 0) return 0;
  const slots = Math.max(1, i.freeSlots);
  if (served(i.queuedRows, slots, i.execMs) >= i.arrivalPerMs) return 0;
  // The smallest batch that keeps up with the arrivals (a full one if none does).
  let target = i.queuedRows + 1;
  while (target < i.maxBatchSize && served(target, slots, i.execMs) < i.arrivalPerMs) target++;
  const arrive = (target - i.queuedRows) / i.arrivalPerMs;
  const wait = Math.min(arrive, i.execMs(target), budget);
  return wait < MIN_WAIT_MS ? 0 : wait;
}

/**
 * Arrival rate (rows per ms) as an exponentially weighted mean of inter-arrival gaps. A quiet spell
 * counts as it runs: the gap since the last arrival bounds the mean from below, so a burst long past
 * does not make an idle model wait.
 */
export class ArrivalRate {
  private meanGapMs = Infinity;
  private meanRows = 1;
  private lastMs: number | undefined;

  constructor(private readonly weight = 0.1) {}

  record(nowMs: number, rows: number): void {
    if (this.lastMs !== undefined) {
      const gap = Math.max(0, nowMs - this.lastMs);
      this.meanGapMs =
        this.meanGapMs === Infinity ? gap : this.weight * gap + (1 - this.weight) * this.meanGapMs;
      this.meanRows = this.weight * rows + (1 - this.weight) * this.meanRows;
    }
    this.lastMs = nowMs;
  }

  perMs(nowMs: number): number {
    if (this.lastMs === undefined || this.meanGapMs === Infinity) return 0;
    const gap = Math.max(this.meanGapMs, nowMs - this.lastMs, 1e-3);
    return this.meanRows / gap;
  }
}
