/**
 * What every transport calls (REST, gRPC, the /v1 API, pipelines): the Open Inference Protocol's
 * operations on the internal types. Transports only decode and encode.
 */
import { clip } from '../core/clip.js';
import type { InferenceRequest, InferenceResponse } from '../core/tensor.js';
import { timerDelayMs } from '../core/timers.js';
import { InferdError, toInferdError, type ErrorCode } from '../errors.js';
import type { IndexEntry, ModelManager } from '../repository/model-manager.js';
import type { ModelConfig } from '../core/model-config.js';
import type { ModelVersion } from '../repository/model-version.js';
import type { ModelMetadata, ServerMetadata } from '../core/model.js';
import type { ModelInvoker } from '../runtime/backend.js';
import { Router } from './router.js';
import type { FailureReason } from '../scheduler/observer.js';
import type { ModelStatistics } from '../core/statistics.js';
import { modelAdmission, type Admission } from './admission.js';
import { assertResponseFits } from './response-size.js';
import { validateRequest } from './validate.js';

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

/** Each model version's admission, computed once (it depends only on the version's metadata and config). */
const ADMISSIONS = new WeakMap<ModelVersion, Admission>();

/** Triton's priority: 1 is the highest level; 0 or absent means the model's default level. */
const DEFAULT_PRIORITY_LEVELS = 3;

/** The config's optional inputs, computed once per config: this runs for every request. */
const OPTIONAL_INPUTS = new WeakMap<ModelConfig, ReadonlySet<string>>();
function optionalInputs(cfg: ModelConfig): ReadonlySet<string> {
  let set = OPTIONAL_INPUTS.get(cfg);
  if (!set) {
    set = new Set((cfg.input ?? []).filter((i) => i.optional).map((i) => i.name));
    OPTIONAL_INPUTS.set(cfg, set);
  }
  return set;
}

export class InferenceService implements ModelInvoker {
  readonly router: Router;
  private draining = false;
  private startupDone = false;
  private inflight = 0;
  private idleWaiters: Array<() => void> = [];

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
    },
  ) {
    this.router = new Router(models);
  }

  live(): boolean {
    return true;
  }

  /** Ready = start-up loading finished, no model loading, not draining; strict: every model READY. */
  ready(): boolean {
    if (this.draining || !this.startupDone || this.models.loading) return false;
    if (!this.info.strictReadiness) return true;
    return this.models
      .all()
      .every((e) => e.unloaded || (e.versions.size > 0 && [...e.versions.values()].every((v) => v.ready)));
  }

  markStarted(): void {
    this.startupDone = true;
  }

  startDraining(): void {
    this.draining = true;
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
    const meta = v.metadata!;
    const versions = [...this.router.entry(name).versions.values()]
      .filter((x) => x.ready)
      .map((x) => x.version);
    return {
      name,
      versions: version === undefined ? versions : [v.version],
      platform: meta.platform,
      inputs: meta.inputs,
      outputs: meta.outputs,
    };
  }

  /** True when the repository has a model of that name, loaded or not. */
  hasModel(name: string): boolean {
    return this.models.get(name) !== undefined;
  }

  /**
   * False for a model that exists but has no version to serve (unloaded, or failed to load), as
   * Triton answers `ready: false` for it; an unknown model or version is still an error.
   */
  /** The server's bound on tensor elements per client request (transports check it while decoding). */
  get maxRequestElements(): number {
    return this.info.maxRequestElements;
  }

  /**
   * What a transport checks before it decodes the tensor data of a request to this model (see
   * admission.ts). Throws as infer() would when the server drains or the model cannot serve, so
   * a request that cannot run is refused before its data is read.
   */
  admission(name: string, version?: string): Admission {
    this.assertAccepting();
    const mv = this.router.resolve(name, version);
    let admission = ADMISSIONS.get(mv);
    if (!admission) {
      admission = modelAdmission(
        name,
        mv.metadata!,
        mv.config.max_batch_size,
        this.info.maxRequestElements,
        () => mv.observer.failed('invalid', 0),
      );
      ADMISSIONS.set(mv, admission);
    }
    return admission;
  }

  private assertAccepting(): void {
    if (this.draining) {
      throw new InferdError('server_draining', 'the server is shutting down; retry on another replica', {
        headers: { 'retry-after': '1' },
      });
    }
  }

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

  /**
   * `internal` marks calls made by a pipeline on behalf of a request already accepted: they are
   * served while draining so that accepted requests can finish.
   */
  async infer(
    req: InferenceRequest,
    timing?: (t: InferTiming) => void,
    internal = false,
  ): Promise<InferenceResponse> {
    if (!internal) this.assertAccepting();
    const mv = this.router.resolve(req.modelName, req.modelVersion);
    const started = performance.now();
    this.inflight += 1;
    try {
      const job = this.prepare(req, mv);
      const result = await mv.scheduler!.enqueue(job);
      // A pipeline's calls stay inside the server (ocr-rec's outputs for one page can be 85 MB);
      // what a transport will encode is bounded.
      if (!internal) assertResponseFits(req.modelName, result.outputs, this.info.maxResponseBytes);
      const totalNs = Math.round((performance.now() - started) * 1e6);
      mv.observer.succeeded(totalNs);
      timing?.({ queueMs: result.queueNs / 1e6, computeMs: result.computeNs / 1e6, version: mv.version });
      const res: InferenceResponse = {
        modelName: req.modelName,
        modelVersion: mv.version,
        outputs: result.outputs,
      };
      if (req.id !== undefined) res.id = req.id;
      return res;
    } catch (err) {
      const e = toInferdError(err);
      mv.observer.failed(
        FAILURE_REASON[e.code] ?? 'invalid',
        Math.round((performance.now() - started) * 1e6),
      );
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

  private prepare(
    req: InferenceRequest,
    mv: ModelVersion,
  ): Parameters<NonNullable<ModelVersion['scheduler']>['enqueue']>[0] {
    const cfg = mv.config;
    validateRequest(req, mv.metadata!, cfg.max_batch_size, optionalInputs(cfg));
    const now = performance.now();
    const p = req.parameters ?? {};
    const deadlines: number[] = [];
    if (req.deadlineMs !== undefined) deadlines.push(req.deadlineMs);
    if (p.timeout !== undefined) {
      const us = Number(p.timeout);
      if (!Number.isFinite(us) || us < 0) {
        throw new InferdError(
          'invalid_request',
          `parameter 'timeout' must be a non-negative number of microseconds`,
        );
      }
      // Clamped: Triton takes any uint64, and a timer cannot wait beyond 2³¹−1 ms (core/timers.ts).
      if (us > 0) deadlines.push(now + timerDelayMs(us / 1000));
    }
    const defaultUs = cfg.dynamic_batching?.default_timeout_microseconds;
    if (defaultUs) deadlines.push(now + timerDelayMs(defaultUs / 1000));
    const levels = cfg.dynamic_batching?.priority_levels || DEFAULT_PRIORITY_LEVELS;
    const defaultLevel = cfg.dynamic_batching?.default_priority_level || Math.ceil(levels / 2);
    let priority = defaultLevel;
    if (p.priority !== undefined) {
      const n = Number(p.priority);
      if (!Number.isInteger(n) || n < 0 || n > levels) {
        throw new InferdError(
          'invalid_request',
          `parameter 'priority' must be an integer from 0 (default) to ${levels} (1 is the highest), got ${clip(p.priority)}`,
        );
      }
      if (n > 0) priority = n;
    }
    // Order inputs as the model declares them, so requests batch together whatever order clients use.
    let inputs = req.inputs;
    if (inputs.length > 1) {
      const order = mv.metadata!.inputs.map((s) => s.name);
      inputs = [...inputs].sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name));
    }
    return {
      inputs,
      // An empty `outputs` list asks for no particular output: every output, as when it is absent.
      outputNames: req.outputs?.length ? req.outputs.map((o) => o.name) : undefined,
      priority,
      deadlineMs: deadlines.length > 0 ? Math.min(...deadlines) : undefined,
      signal: req.signal,
    };
  }

  repositoryIndex(): Promise<IndexEntry[]> {
    return this.models.index();
  }

  loadModel(name: string): Promise<void> {
    return this.models.load(name);
  }

  unloadModel(name: string): Promise<void> {
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
