/**
 * Every Prometheus metric name of inferd, in one file (listed in docs/observability.md). Per model and version.
 * Triton's names (`--metrics-format triton|both`) are in triton-metrics.ts, fed by the same events.
 */
import client from 'prom-client';
import { TritonMetrics } from './triton-metrics.js';
import { CounterFamily, HistogramFamily } from './fast-family.js';
import { RolloutMetrics } from './rollout-metrics.js';
import type { ModelLabels, PendingCell } from './metric-cells.js';
import type { DriftWindow } from './drift-window.js';

/** How a feedback compared with its prediction (inferd_feedback_total's `outcome`). */
type FeedbackOutcome = 'correct' | 'incorrect' | 'unscored';
type Placements = { readonly worker: number; readonly inline: number };

/** What /metrics exposes: inferd's names, Triton's (nv_*), or both at once. */
export type MetricsFormat = 'inferd' | 'triton' | 'both';

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256];

export class Metrics {
  readonly registry = new client.Registry();

  readonly requestSuccess = new CounterFamily<ModelLabels>({
    name: 'inferd_request_success_total',
    help: 'Inference requests that succeeded',
    labelNames: ['model', 'version'],
    registers: [this.registry],
  });

  readonly requestFailure = new client.Counter<ModelLabels | 'reason'>({
    name: 'inferd_request_failure_total',
    help: 'Inference requests that failed, by reason (rejected, timeout, canceled, invalid, backend)',
    labelNames: ['model', 'version', 'reason'],
    registers: [this.registry],
  });

  readonly requestDuration = new HistogramFamily<ModelLabels>({
    name: 'inferd_request_duration_seconds',
    help: 'End-to-end inference request duration inside the server',
    labelNames: ['model', 'version'],
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly queueDuration = new HistogramFamily<ModelLabels>({
    name: 'inferd_queue_duration_seconds',
    help: 'Time a request waited in the scheduler queue',
    labelNames: ['model', 'version'],
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly computeDuration = new HistogramFamily<ModelLabels>({
    name: 'inferd_compute_duration_seconds',
    help: 'Time of one model execution (batch), including moving tensors to and from the worker',
    labelNames: ['model', 'version'],
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly batchSize = new HistogramFamily<ModelLabels>({
    name: 'inferd_batch_size',
    help: 'Batch rows per model execution',
    labelNames: ['model', 'version'],
    buckets: BATCH_BUCKETS,
    registers: [this.registry],
  });

  readonly inferenceCount = new CounterFamily<ModelLabels>({
    name: 'inferd_inference_count_total',
    help: 'Batch rows inferred (Triton inference_count)',
    labelNames: ['model', 'version'],
    registers: [this.registry],
  });

  readonly executionCount = new CounterFamily<ModelLabels>({
    name: 'inferd_execution_count_total',
    help: 'Model executions (Triton execution_count); inference/execution = average batch',
    labelNames: ['model', 'version'],
    registers: [this.registry],
  });

  /** Read at scrape time: the count changes twice per request, and a labelled set costs a hash each. */
  private readonly pendingCells = new Map<string, PendingCell>();
  readonly pending = new client.Gauge<ModelLabels>({
    name: 'inferd_pending_requests',
    help: 'Requests queued or executing',
    labelNames: ['model', 'version'],
    registers: [this.registry],
    collect: () => {
      for (const cell of this.pendingCells.values()) this.pending.set(cell.labels, cell.value);
    },
  });

  /** The pending-requests cell of one model version (one per label set, reused on reload). */
  pendingCell(labels: Record<ModelLabels, string>): PendingCell {
    const key = `${labels.model}\u0000${labels.version}`;
    let cell = this.pendingCells.get(key);
    if (!cell) {
      cell = { labels, value: 0 };
      this.pendingCells.set(key, cell);
    }
    return cell;
  }

  readonly pipelineStepsCanceled = new client.Counter<ModelLabels>({
    name: 'inferd_pipeline_steps_canceled_total',
    help: 'Pipeline steps not run because their request was canceled (client gone, deadline)',
    labelNames: ['model', 'version'],
    registers: [this.registry],
  });

  readonly modelState = new client.Gauge<ModelLabels | 'state'>({
    name: 'inferd_model_state',
    help: 'Model version load state: 1 for the current state, 0 otherwise',
    labelNames: ['model', 'version', 'state'],
    registers: [this.registry],
  });

  readonly cacheHits = new client.Counter<ModelLabels>({
    name: 'inferd_cache_hits_total',
    help: 'Requests answered from the response cache (models with response_cache enabled)',
    labelNames: ['model', 'version'],
    registers: [this.registry],
  });

  readonly cacheMisses = new client.Counter<ModelLabels>({
    name: 'inferd_cache_misses_total',
    help: 'Requests to a model with response_cache enabled that the cache could not answer',
    labelNames: ['model', 'version'],
    registers: [this.registry],
  });

  /** The response cache's size, read at scrape time (set by the composition root). */
  cacheUsage: () => { bytes: number; entries: number; evictions: number } = () => ({
    bytes: 0,
    entries: 0,
    evictions: 0,
  });

  private readonly cacheBytes: client.Gauge = new client.Gauge({
    name: 'inferd_cache_bytes',
    help: 'Bytes held by the response cache (outputs and per-entry overhead), all models',
    registers: [this.registry],
    collect: () => this.cacheBytes.set(this.cacheUsage().bytes),
  });

  private readonly cacheEntries: client.Gauge = new client.Gauge({
    name: 'inferd_cache_entries',
    help: 'Responses held by the response cache, all models',
    registers: [this.registry],
    collect: () => this.cacheEntries.set(this.cacheUsage().entries),
  });

  /** Evictions counted by the cache; the counter catches up at scrape time. */
  private evictionsSeen = 0;
  private readonly cacheEvictions: client.Counter = new client.Counter({
    name: 'inferd_cache_evictions_total',
    help: 'Responses evicted from the response cache to make room (least recently used first)',
    registers: [this.registry],
    collect: () => {
      const now = this.cacheUsage().evictions;
      if (now > this.evictionsSeen) this.cacheEvictions.inc(now - this.evictionsSeen);
      this.evictionsSeen = now;
    },
  });

  /** Each loaded version's execution placements (Backend.placements), read at scrape time. */
  private readonly placementSources = new Map<
    string,
    { labels: Record<ModelLabels, string>; read: () => Placements; seen: Placements }
  >();

  readonly executionsByPlacement = new client.Counter<ModelLabels | 'placement'>({
    name: 'inferd_executions_by_placement_total',
    help: 'Model executions by where they ran: worker (an inference thread) or inline (the event loop: inline models and the idle lane)',
    labelNames: ['model', 'version', 'placement'],
    registers: [this.registry],
    collect: () => {
      for (const src of this.placementSources.values()) {
        const now = src.read();
        for (const placement of ['worker', 'inline'] as const) {
          const delta = now[placement] - src.seen[placement];
          // inc(0) too: both series exist from the first scrape, so a rate() sees where executions start.
          this.executionsByPlacement.inc({ ...src.labels, placement }, Math.max(0, delta));
        }
        src.seen = { ...now };
      }
    },
  });

  /** Registers a loaded version's placement counts (a reload of the version starts them again). */
  placements(labels: Record<ModelLabels, string>, read: () => Placements): void {
    // A reloaded version's backend counts from zero; executions since the last scrape before the
    // reload are not counted.
    this.placementSources.set(`${labels.model}\u0000${labels.version}`, {
      labels,
      read,
      seen: { worker: 0, inline: 0 },
    });
  }

  /** Each loaded version's drift window (drift-window.ts), read at scrape time. */
  private readonly driftWindows = new Map<
    string,
    { labels: Record<ModelLabels, string>; window: DriftWindow; live: () => boolean }
  >();

  /** Population stability index against the training reference; alert at >= 0.2 (docs/lifecycle.md). */
  readonly driftPsi = new client.Gauge<ModelLabels | 'feature'>({
    name: 'inferd_drift_psi',
    help: 'PSI of the live window against the training reference per input feature and prediction (<0.1 stable, 0.1-0.2 moderate, >=0.2 alert)',
    labelNames: ['model', 'version', 'feature'],
    registers: [this.registry],
    collect: () => {
      this.driftPsi.reset();
      for (const { labels, window, live } of this.driftWindows.values()) {
        if (!live()) continue;
        for (const [feature, v] of window.psi()) this.driftPsi.set({ ...labels, feature }, v);
      }
    },
  });

  readonly driftItems = new client.Gauge<ModelLabels>({
    name: 'inferd_drift_window_items',
    help: 'Items in the live drift window (PSI is reported from 100 on)',
    labelNames: ['model', 'version'],
    registers: [this.registry],
    collect: () => {
      this.driftItems.reset();
      for (const { labels, window, live } of this.driftWindows.values()) {
        if (live()) this.driftItems.set(labels, window.items);
      }
    },
  });

  /** Registers a loaded version's drift window (a reload replaces it); reported while `live()`. */
  driftWindow(labels: Record<ModelLabels, string>, window: DriftWindow, live: () => boolean): void {
    this.driftWindows.set(`${labels.model}\u0000${labels.version}`, { labels, window, live });
  }

  readonly feedbackTotal = new client.Counter<ModelLabels | 'outcome'>({
    name: 'inferd_feedback_total',
    help: 'Feedback received per prediction, by outcome (correct, incorrect, unscored)',
    labelNames: ['model', 'version', 'outcome'],
    registers: [this.registry],
  });

  /** Per model and version: [correct, scored] since start, for the accuracy gauge. */
  private readonly accuracyCells = new Map<
    string,
    { labels: Record<ModelLabels, string>; correct: number; scored: number }
  >();

  readonly liveAccuracy = new client.Gauge<ModelLabels>({
    name: 'inferd_live_accuracy',
    help: 'Share of scored feedback whose label matched the prediction (this process, since start)',
    labelNames: ['model', 'version'],
    registers: [this.registry],
    collect: () => {
      for (const c of this.accuracyCells.values()) this.liveAccuracy.set(c.labels, c.correct / c.scored);
    },
  });

  /** Counts one feedback; `correct` null when there was nothing to compare. */
  feedback(model: string, version: string, correct: boolean | null): void {
    const outcome: FeedbackOutcome = correct === null ? 'unscored' : correct ? 'correct' : 'incorrect';
    this.feedbackTotal.inc({ model, version, outcome });
    if (correct === null) return;
    const key = `${model}\u0000${version}`;
    let cell = this.accuracyCells.get(key);
    if (!cell) {
      cell = { labels: { model, version }, correct: 0, scored: 0 };
      this.accuracyCells.set(key, cell);
    }
    cell.scored += 1;
    if (correct) cell.correct += 1;
  }

  /** Triton's families, when the format asks for them (fed by each ModelObserver). */
  /** Canary, rollback and shadow metrics (rollout-metrics.ts), fed by the rollout controller. */
  readonly rollout = new RolloutMetrics(this.registry);

  readonly triton?: TritonMetrics;
  /** The registry /metrics serves. */
  readonly exposed: client.Registry;

  constructor(format: MetricsFormat = 'inferd') {
    client.collectDefaultMetrics({ register: this.registry, prefix: 'inferd_' });
    if (format === 'inferd') {
      this.exposed = this.registry;
      return;
    }
    const tritonRegistry = new client.Registry();
    this.triton = new TritonMetrics(tritonRegistry, () => this.pendingCells.values());
    this.exposed =
      format === 'triton' ? tritonRegistry : client.Registry.merge([this.registry, tritonRegistry]);
  }
}
