/** Feeds one model version's events into Prometheus metrics and Triton statistics at once. */
import type { BackendEvents } from '../runtime/backend.js';
import type { FailureReason, SchedulerObserver } from '../scheduler/observer.js';
import { VersionStats } from './stats.js';
import type { Metrics } from './metrics.js';
import type { PendingCell } from './metric-cells.js';
import type { CounterCell, HistogramCell } from './fast-family.js';
import type { TritonVersionMetrics } from './triton-metrics.js';

const NS_PER_S = 1e9;

export class ModelObserver implements SchedulerObserver, BackendEvents {
  readonly stats: VersionStats;
  private readonly labels: { model: string; version: string };
  private readonly pending: PendingCell;
  /** Triton's names, when /metrics exposes them. */
  private readonly triton?: TritonVersionMetrics;
  /** This version's cells of the per-request families, bound once (fast-family.ts). */
  private readonly cells: {
    batchSize: HistogramCell;
    inferenceCount: CounterCell;
    executionCount: CounterCell;
    computeDuration: HistogramCell;
    queueDuration: HistogramCell;
    requestSuccess: CounterCell;
    requestDuration: HistogramCell;
  };

  constructor(
    private readonly metrics: Metrics,
    model: string,
    version: string,
  ) {
    this.stats = new VersionStats(model, version);
    this.labels = { model, version };
    this.pending = metrics.pendingCell(this.labels);
    this.triton = metrics.triton?.forVersion(this.labels);
    const l = this.labels;
    this.cells = {
      batchSize: metrics.batchSize.cell(l),
      inferenceCount: metrics.inferenceCount.cell(l),
      executionCount: metrics.executionCount.cell(l),
      computeDuration: metrics.computeDuration.cell(l),
      queueDuration: metrics.queueDuration.cell(l),
      requestSuccess: metrics.requestSuccess.cell(l),
      requestDuration: metrics.requestDuration.cell(l),
    };
  }

  pendingChanged(pending: number): void {
    this.pending.value = pending;
  }

  executed(rows: number, requests: number, inputNs: number, inferNs: number, outputNs: number): void {
    this.stats.recordExecution(rows, requests, inputNs, inferNs, outputNs);
    const c = this.cells;
    c.batchSize.observe(rows);
    c.inferenceCount.value += rows;
    c.executionCount.value += 1;
    c.computeDuration.observe((inputNs + inferNs + outputNs) / NS_PER_S);
    this.triton?.executed(rows, requests, inputNs, inferNs, outputNs);
  }

  dequeued(queueNs: number): void {
    this.stats.recordQueue(queueNs);
    this.cells.queueDuration.observe(queueNs / NS_PER_S);
    this.triton?.dequeued(queueNs);
  }

  succeeded(totalNs: number): void {
    this.stats.recordRequest(true, totalNs);
    this.cells.requestSuccess.value += 1;
    this.cells.requestDuration.observe(totalNs / NS_PER_S);
    this.triton?.succeeded(totalNs);
  }

  failed(reason: FailureReason, totalNs: number): void {
    this.stats.recordRequest(false, totalNs);
    this.metrics.requestFailure.inc({ ...this.labels, reason });
    this.triton?.failed(reason);
  }

  /** A response cache lookup (service/response-cache.ts): `ns` as VersionStats.recordCache. */
  cached(hit: boolean, ns: number): void {
    this.stats.recordCache(hit, ns);
    (hit ? this.metrics.cacheHits : this.metrics.cacheMisses).inc(this.labels);
    this.triton?.cached(hit, ns);
  }

  stepsCanceled(count: number): void {
    this.metrics.pipelineStepsCanceled.inc(this.labels, count);
  }

  stateChanged(state: string, all: readonly string[]): void {
    for (const s of all) this.metrics.modelState.set({ ...this.labels, state: s }, s === state ? 1 : 0);
  }
}
