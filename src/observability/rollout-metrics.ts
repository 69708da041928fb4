/**
 * Rollout metrics (src/service/rollout/), registered beside inferd's own (metrics.ts) and listed
 * in docs/observability.md: where canary traffic went, rollbacks, and the shadow comparison.
 */
import client from 'prom-client';

/** One mirrored request (the service's ShadowReport, structurally: observability does not import it). */
export interface ShadowObservation {
  model: string;
  version: string;
  outcome: string;
  latencyMs?: number;
  agreement?: { rows: number; agreed: number; scoreDiff: number | undefined; cer: number | undefined };
}

const SHARE_BUCKETS = [0, 0.001, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1];
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const PHASES = ['canary', 'promoted', 'rolled_back'] as const;

export class RolloutMetrics {
  readonly routed: client.Counter<'model' | 'version' | 'arm'>;
  readonly rollbacks: client.Counter<'model' | 'version'>;
  readonly fallbacks: client.Counter<'model' | 'version'>;
  readonly percent: client.Gauge<'model' | 'candidate'>;
  readonly phase: client.Gauge<'model' | 'phase'>;
  readonly shadow: client.Counter<'model' | 'version' | 'outcome'>;
  readonly labels: client.Counter<'model' | 'version' | 'result'>;
  readonly scoreDiff: client.Histogram<'model' | 'version'>;
  readonly cer: client.Histogram<'model' | 'version'>;
  readonly shadowDuration: client.Histogram<'model' | 'version'>;

  constructor(registry: client.Registry) {
    const registers = [registry];
    this.routed = new client.Counter({
      name: 'inferd_rollout_requests_total',
      help: 'Unversioned requests a canary sent to each arm (production or candidate)',
      labelNames: ['model', 'version', 'arm'],
      registers,
    });
    this.rollbacks = new client.Counter({
      name: 'inferd_rollout_rollbacks_total',
      help: 'Automatic rollbacks of a canary candidate (the reason is in the log and the rollout state)',
      labelNames: ['model', 'version'],
      registers,
    });
    this.fallbacks = new client.Counter({
      name: 'inferd_rollout_fallbacks_total',
      help: 'Canary requests that failed on the candidate and were answered by production instead',
      labelNames: ['model', 'version'],
      registers,
    });
    this.percent = new client.Gauge({
      name: 'inferd_rollout_canary_percent',
      help: 'Share of unversioned requests the candidate answers, in percent (0 outside a canary)',
      labelNames: ['model', 'candidate'],
      registers,
    });
    this.phase = new client.Gauge({
      name: 'inferd_rollout_phase',
      help: "A model's rollout phase: 1 for the current phase, 0 otherwise",
      labelNames: ['model', 'phase'],
      registers,
    });
    this.shadow = new client.Counter({
      name: 'inferd_shadow_requests_total',
      help: 'Requests mirrored to a candidate, by outcome (compared, shed, failed)',
      labelNames: ['model', 'version', 'outcome'],
      registers,
    });
    this.labels = new client.Counter({
      name: 'inferd_shadow_label_rows_total',
      help: 'Classifier rows compared in shadow, by whether the top label agreed (agree, disagree)',
      labelNames: ['model', 'version', 'result'],
      registers,
    });
    this.scoreDiff = new client.Histogram({
      name: 'inferd_shadow_score_difference',
      help: "Mean absolute difference of the primary label's score between production and candidate, per request",
      labelNames: ['model', 'version'],
      buckets: SHARE_BUCKETS,
      registers,
    });
    this.cer = new client.Histogram({
      name: 'inferd_shadow_cer',
      help: "Character error rate of the candidate's text against production's, per request",
      labelNames: ['model', 'version'],
      buckets: SHARE_BUCKETS,
      registers,
    });
    this.shadowDuration = new client.Histogram({
      name: 'inferd_shadow_duration_seconds',
      help: "A mirrored request's time on the candidate (queue and compute)",
      labelNames: ['model', 'version'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
  }

  routedTo(model: string, version: string, arm: string): void {
    this.routed.inc({ model, version, arm });
  }

  /** A rollout's phase and share now; `previousCandidate` drops the old candidate's series. */
  state(model: string, phase: string, candidate: string, percent: number, previousCandidate?: string): void {
    if (previousCandidate !== undefined && previousCandidate !== candidate) {
      this.percent.remove({ model, candidate: previousCandidate });
    }
    this.percent.set({ model, candidate }, phase === 'canary' ? percent : 0);
    for (const p of PHASES) this.phase.set({ model, phase: p }, p === phase ? 1 : 0);
  }

  rolledBack(model: string, candidate: string): void {
    this.rollbacks.inc({ model, version: candidate });
  }

  /** A canary request the candidate `version` failed, answered by production instead. */
  fellBack(model: string, version: string): void {
    this.fallbacks.inc({ model, version });
  }

  shadowSink(r: ShadowObservation): void {
    const labels = { model: r.model, version: r.version };
    this.shadow.inc({ ...labels, outcome: r.outcome });
    if (r.latencyMs !== undefined) this.shadowDuration.observe(labels, r.latencyMs / 1000);
    const a = r.agreement;
    if (!a) return;
    if (a.rows > 0) {
      this.labels.inc({ ...labels, result: 'agree' }, a.agreed);
      this.labels.inc({ ...labels, result: 'disagree' }, a.rows - a.agreed);
    }
    if (a.scoreDiff !== undefined) this.scoreDiff.observe(labels, a.scoreDiff);
    if (a.cer !== undefined) this.cer.observe(labels, a.cer);
  }
}
