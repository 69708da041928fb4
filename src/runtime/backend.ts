/**
 * The seam between the scheduler and the runtimes (Triton's backend API, narrowed).
 * A backend owns one loaded model version. The scheduler owns batching and ordering; a backend
 * only executes what it is given.
 */
import type { InferenceRequest, InferenceResponse, Tensor } from '../core/tensor.js';
import type { BackendMetadata } from '../core/model.js';
import type { ConfigSection, ModelConfig } from '../core/model-config.js';
import type { Logger } from 'pino';
import type { BackendTuning } from './tuning.js';

/** Calls another model of the repository (pipelines use it); the same path a client request takes. */
export interface ModelInvoker {
  infer(request: InferenceRequest): Promise<InferenceResponse>;
}

/** What a backend reports besides its results; observability implements it (metrics). */
export interface BackendEvents {
  /** A canceled request left `count` pipeline steps unrun. */
  stepsCanceled(count: number): void;
}

export interface LoadContext {
  modelName: string;
  version: string;
  /** Absolute path of the version folder (holds model.onnx and friends). */
  versionDir: string;
  config: ModelConfig;
  invoker: ModelInvoker;
  logger: Logger;
  events?: BackendEvents;
  /**
   * One row of the config's first model_warmup sample, when it has one: what a backend that
   * calibrates itself times (runtime/tuning.ts) instead of synthetic inputs.
   */
  calibrationSample?: Tensor[];
}

export interface Backend {
  readonly metadata: BackendMetadata;
  /**
   * Runs one execution. `inputs` are already validated against `metadata` and, when batched, are the
   * concatenation of several requests along dim 0. Returns every output named in `outputNames`
   * (all outputs when undefined). After the call the backend owns the input buffers (they may be
   * transferred to another thread); callers must not read them again. `signal` is the request's
   * own when the execution serves one request (the scheduler never cancels a shared batch): a
   * backend that can stop part-way (a pipeline between steps) stops and throws `canceled`.
   */
  infer(inputs: Tensor[], outputNames?: string[], signal?: AbortSignal): Promise<Tensor[]>;
  /**
   * True when the backend holds BYTES as text (ONNX Runtime's string tensors): BYTES inputs that
   * are not valid UTF-8 are then refused before they are queued, never altered. Absent = any bytes.
   */
  readonly bytesAsText?: boolean;
  /**
   * Self-tuned settings (tuning.ts) when the config left some out: the model manager reports them
   * in the config and, with the calibration curve, drives the adaptive batch window.
   */
  readonly tuning?: BackendTuning;
  /** Executions so far by where they ran (ONNX: worker threads, or inline on the event loop). */
  readonly placements?: { readonly worker: number; readonly inline: number };
  /**
   * Runs an execution nobody waits for (a shadow mirror) where it cannot slow the real ones, or
   * returns undefined when it cannot now (the caller drops it). Absent = no such place: callers
   * use the scheduler. Inputs as for `infer`.
   */
  background?(inputs: Tensor[], outputNames?: string[]): Promise<Tensor[]> | undefined;
  /** Executions that may run at once (instances); the scheduler never exceeds it. Default: the config's instance count. */
  readonly concurrency?: number;
  /** Releases sessions and workers. Idempotent. */
  unload(): Promise<void>;
}

export interface BackendFactory {
  /** Name used in config `backend` (or derived from `platform`). */
  readonly name: string;
  readonly platform: string;
  /** The config.json section this backend owns, validated when a model's config is read. */
  readonly configSection?: ConfigSection;
  load(ctx: LoadContext): Promise<Backend>;
  /**
   * The models a backend of this config calls through the invoker (pipelines), known before it
   * loads; the model manager refuses call cycles with it. Tolerates an invalid config (load reports
   * that). Absent = calls none.
   */
  dependencies?(config: ModelConfig): string[];
}
