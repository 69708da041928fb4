/** Feeds one model version's events into Prometheus metrics and Triton statistics at once. */
import type { BackendEvents } from '../runtime/backend.js';
import type { FailureReason, SchedulerObserver } from '../scheduler/observer.js';
import { VersionStats } from './stats.js';
import type { Metrics } from './metrics.js';
import type { PendingCell } from './metric-cells.js';
import type { TritonVersionMetrics } from './triton-metrics.js';

const NS_PER_S = 1e9;

export class ModelObserver implements SchedulerObserver, BackendEvents {
  readonly stats: VersionStats;
  private readonly labels: { model: string; version: string };
  private readonly pending: PendingCell;
  /** Triton's names, when /metrics exposes them. */
  private readonly triton?: TritonVersionMetrics;

  constructor(
    private readonly metrics: Metrics,
    model: string,
    version: string,
  ) {
    this.stats = new VersionStats(model, version);
    this.labels = { model, version };
    this.pending = metrics.pendingCell(this.labels);
    this.triton = metrics.triton?.forVersion(this.labels);
  }

  pendingChanged(pending: number): void {
    this.pending.value = pending;
  }

  executed(rows: number, requests: number, inputNs: number, inferNs: number, outputNs: number): void {
    this.stats.recordExecution(rows, requests, inputNs, inferNs, outputNs);
    this.metrics.batchSize.observe(this.labels, rows);
    this.metrics.inferenceCount.inc(this.labels, rows);
    this.metrics.executionCount.inc(this.labels);
    this.metrics.computeDuration.observe(this.labels, (inputNs + inferNs + outputNs) / NS_PER_S);
    this.triton?.executed(rows, requests, inputNs, inferNs, outputNs);
  }

  dequeued(queueNs: number): void {
    this.stats.recordQueue(queueNs);
    this.metrics.queueDuration.observe(this.labels, queueNs / NS_PER_S);
    this.triton?.dequeued(queueNs);
  }

  succeeded(totalNs: number): void {
    this.stats.recordRequest(true, totalNs);
    this.metrics.requestSuccess.inc(this.labels);
    this.metrics.requestDuration.observe(this.labels, totalNs / NS_PER_S);
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
