/**
 * What every transport calls (REST, gRPC, the /v1 API, pipelines): the Open Inference Protocol's
 * operations on the internal types. Transports only decode and encode.
 */
import type { InferenceRequest, InferenceResponse, Tensor } from '../core/tensor.js';
import { InferdError, toInferdError, type ErrorCode } from '../errors.js';
import type { IndexEntry, ModelManager } from '../repository/model-manager.js';
import type { ModelControl } from '../repository/model-control.js';
import type { LoadOverride } from '../repository/load-override.js';

export type { LoadOverride };
import { clip } from '../core/clip.js';
import type { ModelConfig } from '../core/model-config.js';
import type { DriftWindow } from '../observability/drift-window.js';
import { isReady, type ModelVersion, type ReadyVersion } from '../repository/model-version.js';
import type { ModelMetadata, ServerMetadata, TensorSpec } from '../core/model.js';
import type { ModelInvoker } from '../runtime/backend.js';
import { Router } from './router.js';
import type { FailureReason } from '../scheduler/observer.js';
import type { ModelStatistics } from '../core/statistics.js';
import { modelAdmission, type Admission } from './admission.js';
import type { SharedMemoryRegistry } from './shared-memory.js';
import { assertResponseFits } from './response-size.js';
import { toJob } from './job.js';
import { classCounts, classify } from './classification.js';
import type { ResponseCache } from './response-cache.js';
import type { RolloutController } from './rollout/controller.js';
import { productionNow, settledVersion } from './rollout/state.js';
import { copyInputs, runShadow, type ShadowSink } from './shadow.js';

/** Per-request timing, for logs and transports. */
export interface InferTiming {
  queueMs: number;
  computeMs: number;
  version: string;
}

const FAILURE_REASON: Partial<Record<ErrorCode, FailureReason>> = {
  queue_full: 'rejected',
  model_unavailable: 'rejected',
  server_draining: 'rejected',
  deadline_exceeded: 'timeout',
  canceled: 'canceled',
  backend_error: 'backend',
  internal: 'backend',
  unsupported: 'backend',
};

/**
 * A request's model version, resolved once by admit(): the transport decodes against it and passes
 * it to infer(), so one request looks its model up once.
 */
export interface Admitted {
  /** The version that will run the request (a number, aliases resolved). */
  readonly version: string;
  /** The element bound and header checks for the decoders (admission.ts). */
  readonly admission: Admission;
  readonly inputs: readonly TensorSpec[];
  readonly maxBatchSize: number;
  readonly config: ModelConfig;
  /** The version's live drift window, when it has a training reference (drift-window.ts). */
  readonly drift?: DriftWindow;
}

/** Each READY version's Admitted, computed once (it depends only on the version's metadata and config). */
const ADMITTED = new WeakMap<ModelVersion, Admitted>();
/** The version behind an Admitted: transports hold the ticket, never the version itself. */
const TARGETS = new WeakMap<Admitted, ReadyVersion>();

export interface InferOptions {
  /** Called with the queue and compute time once the request ran. */
  timing?: (t: InferTiming) => void;
  /**
   * A call made by a pipeline on behalf of a request already accepted: served while draining so
   * that accepted requests can finish, and exempt from the response bound.
   */
  internal?: boolean;
  /** The version admit() resolved for this request; looked up again only if it left READY since. */
  admitted?: Admitted;
  /**
   * The request's own id (the transport's x-request-id): picks the shadow share, and the canary arm
   * when infer() resolves the version itself. Defaults to the body's `id`.
   */
  requestKey?: string;
}

/** Failures that count against a version in a canary: the server's, not the client's (rollback.ts). */
const COUNTS_AGAINST: ReadonlySet<FailureReason> = new Set(['backend', 'timeout', 'rejected']);
/**
 * Candidate failures answered again by production: the model failed or its queue was full. Not a
 * timeout: the request's time is spent, and production would only add load past its deadline.
 */
const FALLS_BACK: ReadonlySet<FailureReason> = new Set(['backend', 'rejected']);

/** Rollouts (src/service/rollout/): attached by the composition root once the store is open. */
export interface RolloutHooks {
  controller: RolloutController;
  /** Where shadow requests report their agreement and latency (metrics). */
  shadow: ShadowSink;
  /** A canary request that failed on `from` and was answered by production `to` (metrics). */
  fallback?: (model: string, from: string, to: string) => void;
}

export class InferenceService implements ModelInvoker {
  private readonly router: Router;
  private draining = false;
  /** SIGTERM seen, drain delay running: not ready, still serving (settings.drainDelayMs). */
  private leaving = false;
  private startupDone = false;
  private inflight = 0;
  private idleWaiters: Array<() => void> = [];
  private rollout: RolloutHooks | undefined;
  private keyCounter = 0;

  constructor(
    readonly models: ModelManager,
    private readonly info: {
      name: string;
      version: string;
      extensions: string[];
      strictReadiness: boolean;
      /** Largest response, in bytes of output tensors (--max-response-bytes); pipelines' own calls are exempt. */
      maxResponseBytes: number;
      /** Most tensor elements in one client request, all inputs together (settings). */
      maxRequestElements: number;
      /** Regions of Triton's system shared-memory extension (shared-memory.ts). */
      sharedMemory: SharedMemoryRegistry;
      /** Most bytes one request's inputs may read from shared memory (the body limit). */
      maxSharedMemoryReadBytes: number;
      /** Model control mode and the repository API's load with overrides; absent: explicit, no overrides. */
      control?: ModelControl;
      /** Triton's response cache, for models whose config enables it; absent or 0 bytes: off. */
      cache?: ResponseCache;
    },
  ) {
    this.router = new Router(models);
  }

  /** Turns rollouts on: unversioned requests are split, mirrored and judged from now on. */
  useRollout(hooks: RolloutHooks): void {
    this.rollout = hooks;
  }

  get rollouts(): RolloutController | undefined {
    return this.rollout?.controller;
  }

  /**
   * The version a request runs on. An unversioned request to a model in a rollout goes where the
   * rollout sends it (the canary arm by `stickyKey`, or the promoted / rolled-back-to version),
   * falling back to the router's default when that version cannot serve; the `production` alias is
   * the rollout's production; any other alias or a version number bypasses the rollout.
   */
  private pick(name: string, version: string | undefined, stickyKey: string | undefined): ReadyVersion {
    const r = this.rollout?.controller;
    // Models without a rollout cost one map lookup here (no key is made up for them).
    if (r && (version === undefined || version === '') && r.state(name)) {
      const routed = r.route(name, stickyKey ?? `anon-${(this.keyCounter += 1)}`);
      if (routed !== undefined) {
        const v = this.router.entry(name).versions.get(routed);
        if (v && isReady(v)) return v;
      }
    }
    // The `production` alias named in a request follows the rollout too: promote and rollback move
    // it in config.json, but the loaded config keeps the old one until the model is reloaded (and
    // a promote's previous version is unloaded once its window ends).
    if (r && version === 'production' && r.state(name)) {
      const v = this.router.entry(name).versions.get(productionNow(r.state(name)) ?? '');
      if (v && isReady(v)) return v;
    }
    return this.router.resolve(name, version);
  }

  /** READY version `version` of `name`, or model_unavailable (for rollout commands). */
  readyVersion(name: string, version: string): string {
    return this.router.resolve(name, version).version;
  }

  /**
   * Production now: what a finished rollout settled on (its config.json alias may be newer than the
   * loaded config), else the `production` alias, else the router's default.
   */
  productionVersion(name: string): string {
    const settled = settledVersion(this.rollout?.controller.state(name));
    if (settled !== undefined && this.router.entry(name).versions.get(settled)?.ready) return settled;
    const alias = this.router.entry(name).config?.aliases['production'];
    return this.router.resolve(name, alias).version;
  }

  live(): boolean {
    return true;
  }

  /** Ready = start-up loading finished, no model loading, not leaving or draining; strict: every model READY. */
  ready(): boolean {
    if (this.leaving || this.draining || !this.startupDone || this.models.loading) return false;
    if (!this.info.strictReadiness) return true;
    return this.models
      .all()
      .every(
        (e) =>
          e.unloaded || (e.versions.size > 0 && [...e.versions.values()].every((v) => v.ready || v.retired)),
      );
  }

  markStarted(): void {
    this.startupDone = true;
  }

  startDraining(): void {
    this.draining = true;
  }

  /**
   * The first step of a shutdown: readiness turns 503 so that load balancers take this replica out,
   * while requests that still arrive are served (see settings.drainDelayMs); startDraining follows.
   */
  startLeaving(): void {
    this.leaving = true;
  }

  /** Leaving or draining: HTTP answers carry `connection: close` so keep-alive clients reconnect elsewhere. */
  get isLeaving(): boolean {
    return this.leaving || this.draining;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /** Inference requests accepted and not yet answered, across every transport. */
  get inflightRequests(): number {
    return this.inflight;
  }

  /** Resolves once no inference request is in flight. */
  idle(): Promise<void> {
    if (this.inflight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  serverMetadata(): ServerMetadata {
    return { name: this.info.name, version: this.info.version, extensions: [...this.info.extensions] };
  }

  modelMetadata(name: string, version?: string): ModelMetadata {
    const v = this.router.resolve(name, version);
    const meta = v.metadata;
    const versions = [...this.router.entry(name).versions.values()]
      .filter((x) => x.ready)
      .map((x) => x.version);
    return {
      name,
      versions: version === undefined ? versions : [v.version],
      platform: meta.platform,
      inputs: meta.inputs,
      outputs: meta.outputs,
      ...(v.lineage ? { lineage: v.lineage } : {}),
    };
  }

  /** True when the repository has a model of that name, loaded or not. */
  hasModel(name: string): boolean {
    return this.models.get(name) !== undefined;
  }

  /** The server's bound on tensor elements per client request (transports check it while decoding). */
  get maxRequestElements(): number {
    return this.info.maxRequestElements;
  }

  /** The server's bound on a response (--max-response-bytes): transports bound JSON text by it too. */
  get sharedMemory(): SharedMemoryRegistry {
    return this.info.sharedMemory;
  }

  get maxSharedMemoryReadBytes(): number {
    return this.info.maxSharedMemoryReadBytes;
  }

  get maxResponseBytes(): number {
    return this.info.maxResponseBytes;
  }

  /**
   * The one lookup of a request's model version, before its data is decoded: throws as infer()
   * would when the server drains or the model or version cannot serve (unknown, not READY), so a
   * request that cannot run is refused before its data is read. The result bounds the decoders
   * and goes to infer().
   */
  admit(name: string, version?: string, stickyKey?: string): Admitted {
    this.assertAccepting();
    const mv = this.pick(name, version, stickyKey);
    let admitted = ADMITTED.get(mv);
    if (!admitted) {
      admitted = {
        version: mv.version,
        admission: modelAdmission(
          name,
          mv.metadata,
          mv.config.max_batch_size,
          this.info.maxRequestElements,
          () => mv.observer.failed('invalid', 0),
        ),
        inputs: mv.metadata.inputs,
        maxBatchSize: mv.config.max_batch_size,
        config: mv.config,
        drift: mv.drift,
      };
      ADMITTED.set(mv, admitted);
      TARGETS.set(admitted, mv);
    }
    return admitted;
  }

  /**
   * Load shedding before a body is read (see Scheduler.full): the refusal when the admitted
   * version's queue is full, counted as a rejected request of that version.
   */
  shed(admitted: Admitted): InferdError | undefined {
    const mv = TARGETS.get(admitted)!;
    if (!mv.scheduler.full) return undefined;
    mv.observer.failed('rejected', 0);
    return mv.scheduler.queueFullError();
  }

  /** The decoders' bounds for a request to this model (admit(), for callers that need only those). */
  admission(name: string, version?: string): Admission {
    return this.admit(name, version).admission;
  }

  private assertAccepting(): void {
    if (this.draining) {
      throw new InferdError('server_draining', 'the server is shutting down; retry on another replica', {
        headers: { 'retry-after': '1' },
      });
    }
  }

  /**
   * False for a model that exists but has no version to serve (unloaded, or failed to load), as
   * Triton answers `ready: false` for it; an unknown model or version is still an error.
   */
  modelReady(name: string, version?: string): boolean {
    try {
      return this.router.find(name, version).ready;
    } catch (err) {
      if (err instanceof InferdError && err.code === 'model_unavailable') return false;
      throw err;
    }
  }

  modelConfig(name: string, version?: string): ModelConfig & { version: string } {
    const v = this.router.find(name, version);
    return { ...v.config, version: v.version };
  }

  async infer(req: InferenceRequest, opts: InferOptions = {}): Promise<InferenceResponse> {
    const { timing, internal = false, admitted } = opts;
    if (!internal) this.assertAccepting();
    const held = admitted && TARGETS.get(admitted);
    const stickyKey = opts.requestKey ?? req.id;
    const rollout = internal ? undefined : this.rollout;
    // Admitted while READY: runs there even if the version started unloading since (it drains).
    const mv =
      held && (held.ready || held.draining)
        ? held
        : rollout
          ? this.pick(req.modelName, req.modelVersion, stickyKey)
          : this.router.resolve(req.modelName, req.modelVersion);
    const started = performance.now();
    let retry: { version: string; req: InferenceRequest } | undefined;
    this.inflight += 1;
    try {
      // Checked before the model runs: a bad class count is the client's error, not a failed inference.
      classCounts(req.outputs);
      const job = toJob(req, mv);
      if (rollout && req.modelVersion === undefined) rollout.controller.served(req.modelName, mv.version);
      // The response cache (response-cache.ts): looked up once the request is valid, keyed before
      // the scheduler owns (and may move) the inputs; a hit never reaches the scheduler.
      const cache =
        mv.config.response_cache?.enable && this.info.cache?.enabled ? this.info.cache : undefined;
      const lookedUp = performance.now();
      const key = cache?.key(req.modelName, mv.version, mv, req);
      const hit = key === undefined ? undefined : cache!.get(key);
      if (key !== undefined)
        mv.observer.cached(hit !== undefined, Math.round((performance.now() - lookedUp) * 1e6));
      let outputs: Tensor[];
      if (hit) {
        outputs = hit;
        if (!internal) assertResponseFits(req.modelName, outputs, this.info.maxResponseBytes);
        timing?.({ queueMs: 0, computeMs: 0, version: mv.version });
      } else {
        // The mirror's inputs are copied before the primary's are handed to a worker thread; so
        // are a canary request's, in case production must answer it instead (catch below).
        const shadowTo =
          rollout && req.modelVersion === undefined && this.shadowTarget(req.modelName, mv, stickyKey);
        const fallbackTo =
          rollout && req.modelVersion === undefined
            ? rollout.controller.fallbackOf(req.modelName, mv.version)
            : undefined;
        const copy = shadowTo || fallbackTo ? copyInputs(req) : undefined;
        if (fallbackTo && copy) retry = { version: fallbackTo, req: copy };
        const result = await mv.scheduler.enqueue(job);
        // A pipeline's calls stay inside the server (ocr-rec's outputs for one page can be 85 MB);
        // what a transport will encode is bounded.
        if (!internal) assertResponseFits(req.modelName, result.outputs, this.info.maxResponseBytes);
        timing?.({ queueMs: result.queueNs / 1e6, computeMs: result.computeNs / 1e6, version: mv.version });
        outputs = classified(result.outputs, req, mv);
        if (key !== undefined) cache!.set(key, outputs);
        // Fire and forget, after the primary answer is written; shed when anything else is running.
        if (shadowTo && copy)
          runShadow(copy, result.outputs, shadowTo, rollout.shadow, () => this.inflight > 0);
      }
      const totalNs = Math.round((performance.now() - started) * 1e6);
      mv.observer.succeeded(totalNs);
      rollout?.controller.observe(req.modelName, mv.version, true, totalNs / 1e6);
      const res: InferenceResponse = { modelName: req.modelName, modelVersion: mv.version, outputs };
      if (req.id !== undefined) res.id = req.id;
      return res;
    } catch (err) {
      const e = toInferdError(err);
      const reason = FAILURE_REASON[e.code] ?? 'invalid';
      const ns = Math.round((performance.now() - started) * 1e6);
      mv.observer.failed(reason, ns);
      if (COUNTS_AGAINST.has(reason)) rollout?.controller.observe(req.modelName, mv.version, false, ns / 1e6);
      if (retry && FALLS_BACK.has(reason) && !req.signal?.aborted) {
        // The candidate's failure is counted (and may roll it back); production answers instead.
        rollout?.fallback?.(req.modelName, mv.version, retry.version);
        return this.infer(
          { ...retry.req, modelVersion: retry.version, signal: req.signal },
          { ...opts, admitted: undefined },
        );
      }
      throw e;
    } finally {
      this.inflight -= 1;
      if (this.inflight === 0 && this.idleWaiters.length > 0) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const w of waiters) w();
      }
    }
  }

  /** The READY candidate to mirror this request to, when it falls in the rollout's shadow share. */
  private shadowTarget(name: string, mv: ReadyVersion, key: string | undefined): ReadyVersion | undefined {
    const c = this.rollout?.controller;
    if (!c?.state(name)) return undefined;
    const to = c.shadowOf(name, mv.version, key ?? `anon-${(this.keyCounter += 1)}`);
    if (to === undefined) return undefined;
    const v = this.router.entry(name).versions.get(to);
    return v && isReady(v) ? v : undefined;
  }

  repositoryIndex(): Promise<IndexEntry[]> {
    return this.models.index();
  }

  /** The repository API's load: an error with the reason (400) when no version serves after it. */
  async loadModel(name: string, override?: LoadOverride): Promise<void> {
    if (this.info.control) return this.info.control.load(name, override);
    if (override)
      throw new InferdError('unsupported', 'loading with an override config or files is not enabled');
    await this.models.load(name);
    const outcome = this.models.loadOutcome(name);
    if (!outcome.ready) {
      throw new InferdError('model_load_failed', `load failed for model '${clip(name)}': ${outcome.reason}`);
    }
  }

  unloadModel(name: string): Promise<void> {
    if (this.info.control) return this.info.control.unload(name);
    return this.models.unload(name);
  }

  /** Triton's statistics for all models, one model, or one version. */
  statistics(name?: string, version?: string): ModelStatistics[] {
    if (name === undefined) {
      return this.models
        .all()
        .flatMap((e) => [...e.versions.values()])
        .map((v) => v.observer.stats.snapshot());
    }
    if (version !== undefined) return [this.router.find(name, version).observer.stats.snapshot()];
    return [...this.router.entry(name).versions.values()].map((v) => v.observer.stats.snapshot());
  }
}

/** The outputs with those the request asked to classify replaced (classification.ts). */
function classified(outputs: Tensor[], req: InferenceRequest, mv: ReadyVersion): Tensor[] {
  const counts = classCounts(req.outputs);
  if (!counts) return outputs;
  const batched = mv.config.max_batch_size > 0;
  return outputs.map((t) => {
    const k = counts.get(t.name);
    return k === undefined ? t : classify(t, k, batched, mv.outputLabels?.get(t.name));
  });
}
