/**
 * Triton's per-model metric families (`--metrics-format triton|both`), so that dashboards built for
 * Triton (its Grafana examples query `nv_inference_request_success`, `nv_inference_queue_duration_us`,
 * …) read inferd unchanged. Names, help texts, types and labels as Triton core's metrics.cc and
 * docs/user_guide/metrics.md: counters without a `_total` suffix, durations as cumulative
 * microsecond counters, labels `model` and `version` (and `reason` on failures).
 *
 * Semantics as Triton's InferenceStatsAggregator: request durations are added for successful
 * requests; the compute durations per request (each request of a batch waited for the whole
 * execution); inference_count counts batch rows, exec_count model executions.
 * Two differences: the queue duration is added when a request leaves the queue (Triton: when it
 * succeeds), and nv_inference_pending_request_count counts requests queued or executing (Triton:
 * queued only), the same number as inferd_pending_requests.
 */
import client from 'prom-client';
import type { FailureReason } from '../scheduler/observer.js';
import type { ModelLabels, PendingCell } from './metric-cells.js';

/** Triton's failure reasons (metric_model_reporter.cc), from ours. */
const TRITON_REASON: Record<FailureReason, string> = {
  rejected: 'REJECTED', // refused by the scheduler (queue at its bound)
  timeout: 'REJECTED', // Triton: "request timeout in the scheduler"
  canceled: 'CANCELED',
  backend: 'BACKEND',
  invalid: 'OTHER',
};

const US_PER_NS = 1e-3;

/** One model version's Triton counters, bound to its labels once (no label hashing per event). */
export interface TritonVersionMetrics {
  executed(rows: number, requests: number, inputNs: number, inferNs: number, outputNs: number): void;
  dequeued(queueNs: number): void;
  succeeded(totalNs: number): void;
  failed(reason: FailureReason): void;
  cached(hit: boolean, ns: number): void;
}

export class TritonMetrics {
  private readonly success: client.Counter<ModelLabels>;
  private readonly failure: client.Counter<ModelLabels | 'reason'>;
  private readonly inferenceCount: client.Counter<ModelLabels>;
  private readonly execCount: client.Counter<ModelLabels>;
  private readonly requestUs: client.Counter<ModelLabels>;
  private readonly queueUs: client.Counter<ModelLabels>;
  private readonly inputUs: client.Counter<ModelLabels>;
  private readonly inferUs: client.Counter<ModelLabels>;
  private readonly outputUs: client.Counter<ModelLabels>;
  private readonly cacheHits: client.Counter<ModelLabels>;
  private readonly cacheMisses: client.Counter<ModelLabels>;
  private readonly cacheHitUs: client.Counter<ModelLabels>;
  private readonly cacheMissUs: client.Counter<ModelLabels>;

  constructor(registry: client.Registry, pendingCells: () => Iterable<PendingCell>) {
    const counter = (name: string, help: string): client.Counter<ModelLabels> =>
      new client.Counter<ModelLabels>({
        name,
        help,
        labelNames: ['model', 'version'],
        registers: [registry],
      });
    this.success = counter(
      'nv_inference_request_success',
      'Number of successful inference requests, all batch sizes',
    );
    this.failure = new client.Counter<ModelLabels | 'reason'>({
      name: 'nv_inference_request_failure',
      help: 'Number of failed inference requests, all batch sizes',
      labelNames: ['model', 'version', 'reason'],
      registers: [registry],
    });
    this.inferenceCount = counter(
      'nv_inference_count',
      'Number of inferences performed (does not include cached requests)',
    );
    this.execCount = counter(
      'nv_inference_exec_count',
      'Number of model executions performed (does not include cached requests)',
    );
    this.requestUs = counter(
      'nv_inference_request_duration_us',
      'Cumulative inference request duration in microseconds (includes cached requests)',
    );
    this.queueUs = counter(
      'nv_inference_queue_duration_us',
      'Cumulative inference queuing duration in microseconds (includes cached requests)',
    );
    this.inputUs = counter(
      'nv_inference_compute_input_duration_us',
      'Cumulative compute input duration in microseconds (does not include cached requests)',
    );
    this.inferUs = counter(
      'nv_inference_compute_infer_duration_us',
      'Cumulative compute inference duration in microseconds (does not include cached requests)',
    );
    this.outputUs = counter(
      'nv_inference_compute_output_duration_us',
      'Cumulative inference compute output duration in microseconds (does not include cached requests)',
    );
    // Response cache (docs/user_guide/metrics.md "Response Cache Metrics"): per model and version.
    this.cacheHits = counter('nv_cache_num_hits_per_model', 'Number of cache hits per model');
    this.cacheMisses = counter('nv_cache_num_misses_per_model', 'Number of cache misses per model');
    this.cacheHitUs = counter(
      'nv_cache_hit_duration_per_model',
      'Total cache hit duration per model, in microseconds',
    );
    this.cacheMissUs = counter(
      'nv_cache_miss_duration_per_model',
      'Total cache miss (insert+lookup) duration per model, in microseconds',
    );
    const pending: client.Gauge<ModelLabels> = new client.Gauge<ModelLabels>({
      name: 'nv_inference_pending_request_count',
      help: 'Instantaneous number of pending requests awaiting execution per-model.',
      labelNames: ['model', 'version'],
      registers: [registry],
      collect: () => {
        for (const cell of pendingCells()) pending.set(cell.labels, cell.value);
      },
    });
  }

  forVersion(labels: Record<ModelLabels, string>): TritonVersionMetrics {
    const success = this.success.labels(labels);
    const inferenceCount = this.inferenceCount.labels(labels);
    const execCount = this.execCount.labels(labels);
    const requestUs = this.requestUs.labels(labels);
    const queueUs = this.queueUs.labels(labels);
    const inputUs = this.inputUs.labels(labels);
    const inferUs = this.inferUs.labels(labels);
    const outputUs = this.outputUs.labels(labels);
    const cacheHits = this.cacheHits.labels(labels);
    const cacheMisses = this.cacheMisses.labels(labels);
    const cacheHitUs = this.cacheHitUs.labels(labels);
    const cacheMissUs = this.cacheMissUs.labels(labels);
    return {
      executed: (rows, requests, inputNs, inferNs, outputNs) => {
        inferenceCount.inc(rows);
        execCount.inc();
        inputUs.inc(inputNs * requests * US_PER_NS);
        inferUs.inc(inferNs * requests * US_PER_NS);
        outputUs.inc(outputNs * requests * US_PER_NS);
      },
      dequeued: (queueNs) => queueUs.inc(queueNs * US_PER_NS),
      succeeded: (totalNs) => {
        success.inc();
        requestUs.inc(totalNs * US_PER_NS);
      },
      failed: (reason) => {
        this.failure.inc({ ...labels, reason: TRITON_REASON[reason] });
      },
      cached: (hit, ns) => {
        (hit ? cacheHits : cacheMisses).inc();
        (hit ? cacheHitUs : cacheMissUs).inc(ns * US_PER_NS);
      },
    };
  }
}
