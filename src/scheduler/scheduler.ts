/**
 * One scheduler per loaded model version: a bounded priority queue, a dynamic batcher, deadlines,
 * cancellation and load shedding (Triton's dynamic_batch_scheduler, in one event loop).
 *
 * Contracts:
 * - `enqueue` refuses at once with `queue_full` when `maxQueueSize` requests are waiting (queued and
 *   not about to be taken by a free instance); the waiting requests never exceed that bound.
 * - A request whose deadline passes, or whose signal aborts, while queued is removed and never computed.
 * - After `enqueue` is called the scheduler owns the input tensors.
 * - At most `concurrency` executions are handed to the backend at once (instances × pipeline depth).
 */
import type { Tensor } from '../core/tensor.js';
import { timerDelayMs } from '../core/timers.js';
import { InferdError } from '../errors.js';
import type { Backend } from '../runtime/backend.js';
import { batchKey, batchSize, concatInputs, splitOutputs } from './batch.js';
import { ArrivalRate, batchWait } from './batch-window.js';
import { watchAbort } from './cancellation.js';
import type { SchedulerObserver } from './observer.js';

export interface SchedulerOptions {
  /** 0 = the model has no batch dimension: every request runs alone. */
  maxBatchSize: number;
  /** Dynamic batching: combine queued requests into one execution. */
  batching: boolean;
  maxQueueDelayMs: number;
  preferredBatchSizes: number[];
  /** Waiting requests at most (Infinity: no bound). */
  maxQueueSize: number;
  /** Executions at once (model instances). */
  concurrency: number;
  /** Seconds a refused client should wait before retrying (Retry-After). */
  retryAfterS: number;
  /**
   * The adaptive batch window (batch-window.ts): with it, `maxQueueDelayMs` is an upper bound and
   * a free instance waits only when the arrival rate says a larger batch is worth it; without it
   * the head always waits out `maxQueueDelayMs` (Triton's rule).
   */
  adaptive?: {
    execMs: (rows: number) => number;
    /** Executions that compute side by side (instances; pipelined slots of one instance do not). */
    parallel: number;
  };
}

export interface Job {
  inputs: Tensor[];
  outputNames?: string[];
  /** Smaller is served first (Triton: 1 is the highest level). */
  priority: number;
  /** Absolute, on the performance.now() clock. */
  deadlineMs?: number;
  signal?: AbortSignal;
}

export interface JobResult {
  outputs: Tensor[];
  queueNs: number;
  computeNs: number;
  batchRows: number;
}

const msToNs = (ms: number): number => Math.round(ms * 1e6);

/** Lone executions in a row after which an idle model stops waiting a turn for company. */
const LONE_STREAK = 8;

interface Item {
  job: Job;
  key: string;
  rows: number;
  /** performance.now() at enqueue (ms, sub-µs resolution; cheaper than hrtime.bigint per request). */
  enqueuedMs: number;
  done: boolean;
  timer?: NodeJS.Timeout;
  resolve: (r: JobResult) => void;
  reject: (e: InferdError) => void;
}

export class Scheduler {
  /** Priority level → FIFO of items; removed items are flagged and skipped lazily. */
  private readonly levels = new Map<number, Item[]>();
  private sortedLevels: number[] = [];
  private queued = 0;
  private inFlight = 0;
  private delayTimer: NodeJS.Timeout | undefined;
  private dispatchSoon: NodeJS.Immediate | undefined;
  private closedReason: string | undefined;
  private idleWaiters: Array<() => void> = [];
  /** Executions in a row whose request arrived alone and ran alone (see scheduleAfterIo). */
  private loneStreak = 0;
  private readonly arrivals = new ArrivalRate();
  /** performance.now() until which the adaptive window waits (set with a 'wait' decision). */
  private waitUntilMs = 0;
  /**
   * What an execution costs beyond the calibrated compute (ms, weighted mean): the hand-off to a
   * worker thread and back, and waiting for a core. The calibration times `session.run` alone; on
   * the 2-core bench machine a 12 µs batch took ~2.5 ms from dispatch to result under load.
   */
  private overheadMs = 0;
  private readonly execMs = (rows: number): number => this.opts.adaptive!.execMs(rows) + this.overheadMs;

  /** Preferred batch sizes, largest first (Triton's rule tries them in that order). */
  private readonly preferredDescending: readonly number[];

  /** Requests one free instance takes without waiting: a request, a batch, or none while a delay runs. */
  private readonly takenAtOnce: number;

  constructor(
    private readonly backend: Backend,
    private readonly opts: SchedulerOptions,
    private readonly observer: SchedulerObserver,
  ) {
    this.preferredDescending = [...opts.preferredBatchSizes].sort((a, b) => b - a);
    const batched = opts.batching && opts.maxBatchSize > 0;
    this.takenAtOnce = !batched ? 1 : opts.maxQueueDelayMs === 0 || opts.adaptive ? opts.maxBatchSize : 0;
  }

  /** Queued plus executing requests. */
  get pending(): number {
    return this.queued + this.inFlightRequests;
  }
  private inFlightRequests = 0;

  /** True once close() was called: enqueue refuses. */
  get closed(): boolean {
    return this.closedReason !== undefined;
  }

  /**
   * True when `enqueue` would refuse with `queue_full` right now. Transports check it before reading
   * a request body, so that shedding load costs no body parsing (a 20 KB JSON body of 1024 floats
   * is ~100 µs of the event loop; refusing after parsing it kept the event loop saturated at 10×
   * overload and pushed refusal latency into seconds — bench/results/scheduler-*.md).
   */
  get full(): boolean {
    return this.closedReason === undefined && this.waiting >= this.opts.maxQueueSize;
  }

  /**
   * Queued requests that no free instance will take at once. With dynamic batching a request sits
   * in the queue until the end of its event-loop turn even when an instance is idle; counting it
   * against `max_queue_size` refused requests that idle instances were about to run (with a bound
   * of 1 and 2 instances, the second of two simultaneous requests got 503). A request that waits
   * out `max_queue_delay` for its batch to fill is waiting, as in Triton, whose queue holds the
   * batch being formed: it counts.
   */
  private get waiting(): number {
    const free = Math.max(0, this.opts.concurrency - this.inFlight);
    return Math.max(0, this.queued - free * this.takenAtOnce);
  }

  queueFullError(): InferdError {
    return InferdError.withoutStack(
      'queue_full',
      `the model's queue is full (${this.opts.maxQueueSize} requests); retry later`,
      { headers: { 'retry-after': String(this.opts.retryAfterS) } },
    );
  }

  enqueue(job: Job): Promise<JobResult> {
    if (this.closedReason !== undefined) {
      return Promise.reject(new InferdError('model_unavailable', this.closedReason));
    }
    if (job.signal?.aborted)
      return Promise.reject(new InferdError('canceled', 'the client canceled the request'));
    if (this.full) return Promise.reject(this.queueFullError());
    return new Promise<JobResult>((resolve, reject) => {
      const item: Item = {
        job,
        key: batchKey(job.inputs, job.outputNames),
        rows: this.opts.maxBatchSize > 0 ? batchSize(job.inputs) : 1,
        enqueuedMs: performance.now(),
        done: false,
        resolve,
        reject,
      };
      if (job.deadlineMs !== undefined) {
        const wait = job.deadlineMs - item.enqueuedMs;
        if (wait <= 0) {
          reject(new InferdError('deadline_exceeded', 'the request timed out before it could be scheduled'));
          return;
        }
        // Bounded: a wait beyond 2³¹−1 ms would make Node fire the timer after 1 ms.
        item.timer = setTimeout(() => this.expire(item), timerDelayMs(wait));
      }
      if (job.signal) watchAbort(job.signal, this.cancelQueued);
      if (this.opts.adaptive) this.arrivals.record(item.enqueuedMs, item.rows);
      // Company: another request queued or executing when this one came.
      if (this.queued > 0 || this.inFlight > 0) this.loneStreak = 0;
      this.push(item);
      this.scheduleAfterIo();
    });
  }

  /**
   * With dynamic batching, dispatch waits for the end of the current event-loop turn: every request
   * whose body was parsed in the same I/O phase then joins one batch and one worker message, instead
   * of the first going alone because the instance happened to be idle. Measured on the 2-core bench
   * machine (spam model, 64 connections): the main thread, not ONNX Runtime, was the bottleneck and
   * postMessage alone took 7.6% of it with dispatch-per-request (see bench/results/scheduler-*.md).
   * The added wait is one setImmediate (µs), not a timer.
   *
   * Except when the recent requests came one at a time (LONE_STREAK executions in a row, each
   * request alone in the queue and the model idle when it came, as from a single client): then a
   * request that finds the model idle goes at once, since waiting for company that has not come in
   * as many turns costs a turn of the event loop (26 µs of 260 per spam request at concurrency 1
   * on the 2-core bench machine, docs/optimization.md) and batches nothing. The first request that
   * finds company ends the streak; batching resumes from that turn.
   */
  private scheduleAfterIo(): void {
    if (!this.opts.batching || this.opts.maxBatchSize === 0) {
      this.schedule();
      return;
    }
    if (this.loneStreak >= LONE_STREAK && this.queued === 1 && this.inFlight === 0) {
      this.schedule();
      return;
    }
    if (this.dispatchSoon) return;
    this.dispatchSoon = setImmediate(() => {
      this.dispatchSoon = undefined;
      this.schedule();
    });
  }

  /** Refuses new work and fails what is still queued; executing batches finish. */
  close(reason: string): void {
    this.closedReason = reason;
    for (const level of this.sortedLevels) {
      for (const item of this.levels.get(level)!) {
        if (!item.done) this.remove(item, new InferdError('model_unavailable', reason));
      }
    }
  }

  /** Resolves when nothing is queued or executing. */
  idle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private push(item: Item): void {
    let level = this.levels.get(item.job.priority);
    if (!level) {
      level = [];
      this.levels.set(item.job.priority, level);
      this.sortedLevels = [...this.levels.keys()].sort((a, b) => a - b);
    }
    level.push(item);
    this.queued += 1;
    this.observer.pendingChanged(this.pending);
  }

  private settle(item: Item): void {
    item.done = true;
    if (item.timer) clearTimeout(item.timer);
  }

  /** Takes a queued item out without computing it. */
  private remove(item: Item, err: InferdError): void {
    if (item.done) return;
    this.settle(item);
    this.queued -= 1;
    this.observer.pendingChanged(this.pending);
    item.reject(err);
    this.compact();
    this.notifyIdle();
  }

  /** A signal aborted (its client left): its queued requests go, uncomputed (cancellation.ts). */
  private readonly cancelQueued = (signal: AbortSignal): void => {
    const gone: Item[] = [];
    for (const level of this.sortedLevels) {
      for (const item of this.levels.get(level)!)
        if (!item.done && item.job.signal === signal) gone.push(item);
    }
    for (const item of gone)
      this.remove(item, new InferdError('canceled', 'the client canceled the request'));
  };

  private expire(item: Item): void {
    this.remove(
      item,
      new InferdError('deadline_exceeded', 'the request timed out while queued; it was not computed'),
    );
  }

  /** Drops flagged items from the heads of the levels so the arrays do not keep garbage. */
  private compact(): void {
    for (const level of this.sortedLevels) {
      const q = this.levels.get(level)!;
      let i = 0;
      while (i < q.length && q[i]!.done) i++;
      if (i > 0) q.splice(0, i);
    }
  }

  /** The first live item in priority order (the levels' heads are live after compact()). */
  private head(): Item | undefined {
    for (const level of this.sortedLevels) {
      for (const item of this.levels.get(level)!) if (!item.done) return item;
    }
    return undefined;
  }

  /**
   * Picks the next batch: the head of the highest level plus compatible items, 'wait' while the
   * queue delay runs (unless `due`: the rest of a queue that was already sent out), or undefined.
   */
  private nextBatch(now: number, due: boolean): Item[] | 'wait' | undefined {
    const head = this.head();
    if (!head) return undefined;
    if (!this.opts.batching || this.opts.maxBatchSize === 0) return [head];
    const max = this.opts.maxBatchSize;
    const batch: Item[] = [];
    let rows = 0;
    fill: for (const level of this.sortedLevels) {
      for (const item of this.levels.get(level)!) {
        if (item.done || item.key !== head.key) continue;
        if (rows + item.rows > max) {
          if (batch.length === 0) batch.push(item); // an oversized single request still runs alone
          break fill;
        }
        batch.push(item);
        rows += item.rows;
        if (rows === max) return batch;
      }
    }
    if (this.preferredDescending.length > 0) {
      // The largest preferred size the queue can fill exactly goes now (Triton's rule).
      for (const size of this.preferredDescending) {
        let acc = 0;
        const cut: Item[] = [];
        for (const item of batch) {
          if (acc + item.rows > size) break;
          acc += item.rows;
          cut.push(item);
        }
        if (acc === size) return cut;
      }
    }
    const waited = now - head.enqueuedMs;
    if (due) return batch;
    if (this.opts.adaptive) {
      const wait = batchWait({
        queuedRows: rows,
        maxBatchSize: max,
        arrivalPerMs: this.arrivals.perMs(now),
        execMs: this.execMs,
        freeSlots: Math.min(this.opts.concurrency - this.inFlight, this.opts.adaptive.parallel),
        waitedMs: waited,
        maxDelayMs: this.opts.maxQueueDelayMs,
      });
      if (wait <= 0) return batch;
      this.waitUntilMs = now + wait;
      return 'wait';
    }
    if (waited < this.opts.maxQueueDelayMs) return 'wait';
    return batch;
  }

  private schedule(): void {
    let due = false;
    while (this.inFlight < this.opts.concurrency && this.queued > 0) {
      const now = performance.now();
      const batch = this.nextBatch(now, due);
      if (batch === undefined) return;
      if (batch === 'wait') {
        this.armDelayTimer(now);
        return;
      }
      const share = this.spread(batch);
      // What spread() held back was due now too: it goes to the next free slot without the delay.
      due = share.length < batch.length;
      this.execute(share);
    }
  }

  /**
   * When several execution slots are free, the queue is shared out among them instead of filling
   * the first: the batches finish one after another, so that the event loop answers one while the
   * next computes. One full batch at a time let a fast closed-loop client (wrk, 64 connections,
   * spam model, max_batch_size 64) settle into two ~35-row convoys, the event loop and the worker
   * each waiting for the other: 1.93× naive, against 2.19× with the queue shared out
   * (docs/benchmarks.md).
   * Preferred batch sizes are the user's own choice and are kept as they are.
   */
  private spread(batch: Item[]): Item[] {
    const free = this.opts.concurrency - this.inFlight;
    if (free < 2 || batch.length < 2 || this.preferredDescending.length > 0) return batch;
    const share = Math.ceil(this.queued / free);
    return batch.length > share ? batch.slice(0, share) : batch;
  }

  private armDelayTimer(now: number): void {
    if (this.delayTimer) return;
    if (this.opts.adaptive) {
      const wait = this.waitUntilMs - now;
      // Node's timers have 1 ms resolution: a shorter window is checked again on the next turn of
      // the event loop (where the arrivals it waits for are read) instead of stretched to 1 ms.
      if (wait < 1) {
        if (!this.dispatchSoon) {
          this.dispatchSoon = setImmediate(() => {
            this.dispatchSoon = undefined;
            this.schedule();
          });
        }
        return;
      }
      this.delayTimer = setTimeout(() => {
        this.delayTimer = undefined;
        this.schedule();
      }, wait);
      return;
    }
    let oldest = Infinity;
    for (const level of this.sortedLevels) {
      for (const item of this.levels.get(level)!) if (!item.done) oldest = Math.min(oldest, item.enqueuedMs);
    }
    const wait = Math.max(0, oldest + this.opts.maxQueueDelayMs - now);
    this.delayTimer = setTimeout(() => {
      this.delayTimer = undefined;
      this.schedule();
    }, wait);
  }

  private execute(batch: Item[]): void {
    const startMs = performance.now();
    if (batch.length === 1 && this.queued === 1 && this.inFlight === 0) this.loneStreak += 1;
    else this.loneStreak = 0;
    for (const item of batch) {
      this.settle(item);
      this.observer.dequeued(msToNs(startMs - item.enqueuedMs));
    }
    this.queued -= batch.length;
    this.inFlightRequests += batch.length;
    this.inFlight += 1;
    this.compact();
    void this.run(batch, startMs);
  }

  private async run(batch: Item[], startMs: number): Promise<void> {
    const rows = batch.reduce((n, i) => n + i.rows, 0);
    try {
      const inputs = concatInputs(batch.map((i) => i.job.inputs));
      const inferStart = performance.now();
      // One request's own signal reaches the backend; a shared batch runs to its end for the others.
      const signal = batch.length === 1 ? batch[0]!.job.signal : undefined;
      const outputs = await this.backend.infer(inputs, batch[0]!.job.outputNames, signal);
      const inferEnd = performance.now();
      if (this.opts.adaptive) {
        const extra = Math.max(0, inferEnd - inferStart - this.opts.adaptive.execMs(rows));
        this.overheadMs = 0.9 * this.overheadMs + 0.1 * extra;
      }
      const split =
        this.opts.maxBatchSize > 0
          ? splitOutputs(
              outputs,
              batch.map((i) => i.rows),
            )
          : [outputs];
      const end = performance.now();
      const inputNs = msToNs(inferStart - startMs);
      const inferNs = msToNs(inferEnd - inferStart);
      const outputNs = msToNs(end - inferEnd);
      this.observer.executed(rows, batch.length, inputNs, inferNs, outputNs);
      batch.forEach((item, i) =>
        item.resolve({
          outputs: split[i]!,
          queueNs: msToNs(startMs - item.enqueuedMs),
          computeNs: inputNs + inferNs + outputNs,
          batchRows: rows,
        }),
      );
    } catch (err) {
      const e =
        err instanceof InferdError ? err : new InferdError('backend_error', String(err), { cause: err });
      for (const item of batch) item.reject(e);
    } finally {
      this.inFlight -= 1;
      this.inFlightRequests -= batch.length;
      this.observer.pendingChanged(this.pending);
      this.schedule();
      this.notifyIdle();
    }
  }

  private notifyIdle(): void {
    if (this.pending !== 0 || this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
