/**
 * The ONNX Runtime backend: `instance_group.count` worker threads, each with its own session.
 * The main thread only moves tensors; it never calls `session.run`.
 */
import { access, readFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import type { Tensor } from '../../core/tensor.js';
import { InferdError } from '../../errors.js';
import type { ModelConfig } from '../../core/model-config.js';
import type { Backend, BackendFactory, LoadContext } from '../backend.js';
import type { BackendMetadata, TensorSpec } from '../../core/model.js';
import { cpuQuota, defaultIntraOpThreads } from '../cpu-quota.js';
import { maxBatchSizeGiven } from '../../core/model-config.js';
import {
  chooseDefaults,
  MAX_TUNED_BATCH,
  monotone,
  type BackendTuning,
  type ExecPoint,
  type Tuned,
  type TuningInput,
} from '../tuning.js';
import type { SessionSettings } from './protocol.js';
import { fromWire, toWire } from './convert.js';
import { OnnxInstance } from './instance.js';
import { InlineInstance } from './inline.js';
import { BackgroundLane } from './background-lane.js';

/** A worker-thread instance or the inline one: what the backend hands executions to. */
type ModelInstance = OnnxInstance | InlineInstance;
import { runFailure } from './run-errors.js';
import { onnxConfigSection, onnxSection } from './config.js';
import { resolveConfigPath } from '../npm-path.js';
import { rewriteModel } from './rewrite/passes.js';
import type { Int8Ranges } from './rewrite/quantize-static.js';

/**
 * Where the model file is: `default_model_filename` inside the version folder, an absolute path,
 * or `npm:<package>/<path>` for a model shipped in an npm package (resolved on Node's lookup path,
 * also for packages whose `exports` map hides their files).
 */
function resolveModelFile(versionDir: string, filename: string): string {
  if (filename.startsWith('npm:')) return resolveConfigPath(filename, versionDir);
  return isAbsolute(filename) ? filename : join(versionDir, filename);
}

/** Config-declared tensors (Triton form: batch dim omitted) take precedence over the model's own. */
function mergeSpecs(kind: 'input' | 'output', model: TensorSpec[], cfg: ModelConfig): TensorSpec[] {
  const declared = kind === 'input' ? cfg.input : cfg.output;
  if (!declared) return model;
  return declared.map((d) => {
    const m = model.find((x) => x.name === d.name);
    if (!m) {
      throw new InferdError(
        'invalid_config',
        `config declares ${kind} '${d.name}' but the model has ${model.map((x) => `'${x.name}'`).join(', ') || 'none'}`,
      );
    }
    if (m.datatype !== d.data_type) {
      throw new InferdError(
        'invalid_config',
        `config declares ${kind} '${d.name}' as ${d.data_type} but the model says ${m.datatype}`,
      );
    }
    return {
      name: d.name,
      datatype: d.data_type,
      shape: cfg.max_batch_size > 0 ? [-1, ...d.dims] : [...d.dims],
    };
  });
}

/**
 * Executions sent to one instance before the first answers (`onnxruntime.pipeline_depth`). The
 * default, 1, keeps every waiting request in the scheduler's queue, where priority, deadlines and
 * cancellation apply until it runs. 2 = double buffering: the worker starts the next batch the
 * moment it posts a result instead of idling until the event loop has read that result and sent
 * more; the batch handed over early can no longer be canceled, expired or overtaken.
 */
const DEFAULT_PIPELINE_DEPTH = 1;

/** The inline session beside the workers, for executions while the model is idle (tuning.ts). */
interface IdleLane {
  instance: InlineInstance;
  /** Largest execution (rows) it takes. */
  maxRows: number;
  /** Dim 0 is the batch dimension (else every execution counts as one row). */
  batched: boolean;
}

class OnnxBackend implements Backend {
  private waiting: Array<{ resolve: (i: ModelInstance) => void; reject: (e: Error) => void }> = [];
  /** Executions handed to each instance and not yet released (reserved synchronously). */
  private readonly inUse = new Map<ModelInstance, number>();
  /** Executions handed to the backend and not yet answered, those waiting for an instance included. */
  private inFlight = 0;
  readonly placements = { worker: 0, inline: 0 };

  constructor(
    readonly metadata: BackendMetadata,
    private readonly instances: ModelInstance[],
    private readonly depth: number,
    private readonly modelName: string,
    readonly tuning?: BackendTuning,
    private readonly idle?: IdleLane,
    private readonly lane?: BackgroundLane,
  ) {}

  background(inputs: Tensor[], outputNames?: string[]): Promise<Tensor[]> | undefined {
    const names = outputNames ?? this.metadata.outputs.map((o) => o.name);
    const shapes = inputs.map((t) => ({ name: t.name, shape: t.shape }));
    return this.lane?.run(inputs, names)?.catch((err: unknown) => {
      throw runFailure(err, { model: this.modelName, inputs: shapes, declared: this.metadata.inputs });
    });
  }

  /** ONNX Runtime's string tensors are JS strings: BYTES must be UTF-8 to reach it unaltered. */
  readonly bytesAsText = true;

  get concurrency(): number {
    return this.instances.length * this.depth;
  }

  async infer(inputs: Tensor[], outputNames?: string[]): Promise<Tensor[]> {
    const names = outputNames ?? this.metadata.outputs.map((o) => o.name);
    // Read before the run: the input buffers move to the worker thread.
    const shapes = inputs.map((t) => ({ name: t.name, shape: t.shape }));
    // Counted from arrival, so that an execution arriving while this one decides sees it.
    this.inFlight++;
    let lane = this.idleCandidate(inputs);
    let instance: ModelInstance | undefined;
    try {
      if (lane) {
        // Decided again one turn of the event loop later: under load the same turn parses more
        // requests, and when they sent executions too this one goes to a worker with them rather
        // than holding the event loop they need (at c=64 the lane otherwise took ~6% of it).
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (this.inFlight > 1 || this.waiting.length > 0 || !lane.alive) lane = undefined;
      }
      instance = lane ?? (await this.acquire());
      if (instance instanceof InlineInstance) this.placements.inline++;
      else this.placements.worker++;
      try {
        const { outputs } = await instance.run(inputs.map(toWire), names);
        return outputs.map(fromWire);
      } catch (err) {
        throw runFailure(err, { model: this.modelName, inputs: shapes, declared: this.metadata.inputs });
      }
    } finally {
      this.inFlight--;
      if (instance && !lane) this.release(instance);
    }
  }

  /** The idle lane when nothing else of this model is in flight or waiting and the execution is small. */
  private idleCandidate(inputs: Tensor[]): InlineInstance | undefined {
    const idle = this.idle;
    if (!idle?.instance.alive || this.inFlight > 1 || this.waiting.length > 0) return undefined;
    const rows = idle.batched ? (inputs[0]?.shape[0] ?? 1) : 1;
    return rows <= idle.maxRows ? idle.instance : undefined;
  }

  async unload(): Promise<void> {
    await Promise.all([
      ...[...this.instances, ...(this.idle ? [this.idle.instance] : [])].map((i) => i.stop()),
      this.lane?.stop(),
    ]);
  }

  /** The least loaded live instance with room, reserved at once so that two callers in one tick never overfill one. */
  private acquire(): Promise<ModelInstance> {
    let best: ModelInstance | undefined;
    for (const i of this.instances) {
      const n = this.inUse.get(i) ?? 0;
      if (i.alive && n < this.depth && (!best || n < (this.inUse.get(best) ?? 0))) best = i;
    }
    if (best) {
      this.inUse.set(best, (this.inUse.get(best) ?? 0) + 1);
      return Promise.resolve(best);
    }
    if (!this.instances.some((i) => i.alive)) return Promise.reject(this.allStopped());
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  private release(instance: ModelInstance): void {
    if (instance.alive && this.waiting.length > 0) {
      this.waiting.shift()!.resolve(instance); // the slot passes on: the count stays
      return;
    }
    this.inUse.set(instance, (this.inUse.get(instance) ?? 1) - 1);
    if (this.waiting.length > 0 && !this.instances.some((i) => i.alive)) {
      const waiting = this.waiting;
      this.waiting = [];
      for (const w of waiting) w.reject(this.allStopped());
    }
  }

  private allStopped(): InferdError {
    return new InferdError('backend_error', 'every instance of this model has stopped');
  }
}

/**
 * Inference threads run at the event loop's own priority by default. SCHED_IDLE (the earlier
 * default) made refusals under 10× overload fast, but at ordinary load an inference thread got no
 * CPU while the event loop and a load generator on the same machine held the cores: ~560 µs per
 * execution of a trivial graph, one request at a time (issue #19). Fast refusals now come from the
 * scheduler refusing before the body is parsed (Scheduler.full) and from the self-tuned instance
 * count, which leaves the event loop its share of the cores. `idle` and `low` stay available.
 */
const DEFAULT_THREAD_PRIORITY = 'normal';

/** Batch sizes to calibrate: powers of two up to the bound (or just one unbatched run). */
function calibrationBatches(maxBatch: number): number[] {
  if (maxBatch <= 0) return [0];
  const out: number[] = [];
  for (let b = 1; b <= Math.min(maxBatch, MAX_TUNED_BATCH); b *= 2) out.push(b);
  return out;
}

/** Triton's rule (auto-complete.ts): every input and output has a dynamic first dimension. */
function dynamicFirstDim(specs: readonly TensorSpec[]): boolean {
  return specs.length > 0 && specs.every((s) => s.shape.length > 0 && s.shape[0] === -1);
}

/**
 * The warm-up row for calibration when it fits the model: one tensor per input, each with the
 * input's rank (dim 0 = 1 when the model batches). A config that leaves `max_batch_size` to the
 * self-tuner wrote its sample without the batch dimension (Triton's form for a batching model), so
 * a row one rank short gets it here. Otherwise undefined: synthetic inputs, and the warm-up itself
 * reports what does not fit.
 */
function fittingSample(
  sample: Tensor[] | undefined,
  inputs: TensorSpec[],
  canBatch: boolean,
): Tensor[] | undefined {
  if (!sample || sample.length !== inputs.length) return undefined;
  const rows: Tensor[] = [];
  for (const spec of inputs) {
    const given = sample.find((s) => s.name === spec.name);
    if (!given || given.datatype !== spec.datatype) return undefined;
    const t =
      canBatch && given.shape.length === spec.shape.length - 1
        ? { ...given, shape: [1, ...given.shape] }
        : given;
    const fits =
      t.shape.length === spec.shape.length &&
      (!canBatch || t.shape[0] === 1) &&
      spec.shape.every((d, i) => d < 0 || d === t.shape[i]);
    if (!fits) return undefined;
    rows.push(t);
  }
  return rows;
}

type Started = { instance: ModelInstance; inputs: TensorSpec[]; outputs: TensorSpec[] };

async function startInline(settings: SessionSettings, file: string): Promise<Started> {
  try {
    return await InlineInstance.start(settings);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new InferdError('backend_error', `ONNX Runtime could not load ${file}: ${reason}`);
  }
}

async function startAll(settings: SessionSettings, count: number, file: string): Promise<Started[]> {
  const started = await Promise.allSettled(Array.from({ length: count }, () => OnnxInstance.start(settings)));
  const ok = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = started.find((s) => s.status === 'rejected');
  if (failed) {
    await Promise.all(ok.map((s) => s.instance.stop()));
    const reason = failed.reason instanceof Error ? failed.reason.message : String(failed.reason);
    throw new InferdError('backend_error', `ONNX Runtime could not load ${file}: ${reason}`);
  }
  return ok;
}

/** One single-threaded session on the event loop's thread for the idle lane; stops `started` if it fails. */
async function startIdleLane(
  base: Omit<SessionSettings, 'intraOpNumThreads'>,
  file: string,
  started: Started[],
): Promise<InlineInstance> {
  try {
    return (await startInline({ ...base, intraOpNumThreads: 1 }, file)).instance as InlineInstance;
  } catch (err) {
    await Promise.all(started.map((s) => s.instance.stop()));
    throw err;
  }
}

/**
 * Instances, threads, batch size and pipelining the config leaves out, from the CPU quota and a
 * calibration run of one single-threaded instance (tuning.ts). Reuses that instance when the
 * chosen thread count matches, else replaces it.
 */
async function loadTuned(
  ctx: LoadContext,
  base: Omit<SessionSettings, 'intraOpNumThreads'>,
  explicit: TuningInput['explicit'],
  file: string,
): Promise<{ started: Started[]; tuning: BackendTuning; idle?: IdleLane }> {
  const cfg = ctx.config;
  const [first] = await startAll({ ...base, intraOpNumThreads: explicit.threads ?? 1 }, 1, file);
  const declares = cfg.input !== undefined || cfg.output !== undefined;
  const canBatch = maxBatchSizeGiven(cfg)
    ? cfg.max_batch_size > 0
    : !declares && dynamicFirstDim(first!.inputs) && dynamicFirstDim(first!.outputs);
  const quota = cpuQuota();
  let curve: ExecPoint[] = [];
  let failure: string | undefined;
  const sample = fittingSample(ctx.calibrationSample, first!.inputs, canBatch);
  try {
    curve = monotone(
      await first!.instance.calibrate(
        calibrationBatches(canBatch ? (maxBatchSizeGiven(cfg) ? cfg.max_batch_size : MAX_TUNED_BATCH) : 0),
        sample?.map(toWire),
      ),
    );
  } catch (err) {
    failure = err instanceof Error ? err.message : String(err);
  }
  let tuned: Tuned;
  if (curve.length > 0) {
    tuned = chooseDefaults({ quota, curve, canBatch, explicit });
  } else {
    // The model refused synthetic inputs (a value range, a string format): the old fixed defaults.
    const instances = explicit.instances ?? 1;
    const why = `calibration failed (${failure ?? 'no result'}): fixed default`;
    tuned = {
      inline: explicit.execution === 'inline',
      instances,
      threads: explicit.threads ?? defaultIntraOpThreads(instances, quota),
      maxBatchSize: explicit.maxBatchSize ?? 0,
      pipelineDepth: explicit.pipelineDepth ?? DEFAULT_PIPELINE_DEPTH,
      maxQueueDelayUs: 0,
      idleInlineRows: 0,
      reasons: {
        instance_count: explicit.instances !== undefined ? 'config' : why,
        intra_op_num_threads: explicit.threads !== undefined ? 'config' : why,
        pipeline_depth: explicit.pipelineDepth !== undefined ? 'config' : why,
      },
    };
  }
  let started: Started[];
  if (tuned.inline) {
    await first!.instance.stop();
    started = [await startInline({ ...base, intraOpNumThreads: tuned.threads }, file)];
  } else if (tuned.threads === (explicit.threads ?? 1)) {
    started = [
      first!,
      ...(tuned.instances > 1
        ? await startAll({ ...base, intraOpNumThreads: tuned.threads }, tuned.instances - 1, file).catch(
            async (e: unknown) => {
              await first!.instance.stop();
              throw e;
            },
          )
        : []),
    ];
  } else {
    await first!.instance.stop();
    started = await startAll({ ...base, intraOpNumThreads: tuned.threads }, tuned.instances, file);
  }
  const tuning: BackendTuning = {
    inline: tuned.inline,
    instances: tuned.instances,
    threads: tuned.threads,
    pipelineDepth: tuned.pipelineDepth,
    threadPriority: base.threadPriority,
    ...(explicit.maxBatchSize === undefined && canBatch && curve.length > 0
      ? { maxBatchSize: tuned.maxBatchSize }
      : {}),
    maxQueueDelayUs: tuned.maxQueueDelayUs,
    idleInlineRows: tuned.idleInlineRows,
    curve,
    reasons: {
      ...tuned.reasons,
      cpu_quota: String(quota),
      calibration_input: sample
        ? `model_warmup '${cfg.model_warmup?.[0]?.name}': ${sample.map((t) => `${t.name} [${t.shape.slice(canBatch ? 1 : 0)}]`).join(', ')}`
        : 'synthetic: zeros or a short word, dynamic dimensions 1 (give a model_warmup to time real sizes)',
    },
  };
  if (tuned.inline || tuned.idleInlineRows === 0) return { started, tuning };
  const idle = await startIdleLane(base, file, started);
  const batched = (tuning.maxBatchSize ?? explicit.maxBatchSize ?? 0) > 0;
  return { started, tuning, idle: { instance: idle, maxRows: tuned.idleInlineRows, batched } };
}

/**
 * The calibrated ranges named by `onnxruntime.int8_calibration` (relative to the model's folder),
 * checked against the passes they were calibrated after.
 */
async function readInt8Ranges(
  ctx: LoadContext,
  name: string,
  passes: readonly string[],
): Promise<Int8Ranges> {
  const path = isAbsolute(name) ? name : join(ctx.versionDir, '..', name);
  let parsed: { graph_rewrites?: unknown; ranges?: unknown };
  try {
    parsed = JSON.parse(await readFile(path, 'utf8')) as typeof parsed;
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new InferdError('invalid_config', `onnxruntime.int8_calibration: cannot read ${path}: ${reason}`);
  }
  const before = Array.isArray(parsed.graph_rewrites) ? (parsed.graph_rewrites as unknown[]) : [];
  if (typeof parsed.ranges !== 'object' || parsed.ranges === null || before.some((p, i) => passes[i] !== p)) {
    throw new InferdError(
      'invalid_config',
      `onnxruntime.int8_calibration: ${path} needs { ranges } calibrated after graph_rewrites [${before.join(', ')}], which must begin the configured ones`,
    );
  }
  return parsed.ranges as Int8Ranges;
}

/** The model's bytes after `onnxruntime.graph_rewrites`; a graph the passes cannot read fails the load. */
async function rewritten(
  file: string,
  passes: NonNullable<ReturnType<typeof onnxSection>['graph_rewrites']>,
  ctx: LoadContext,
  rangesFile?: string,
): Promise<Uint8Array> {
  const int8Ranges = rangesFile ? await readInt8Ranges(ctx, rangesFile, passes) : undefined;
  try {
    const { model, changed } = rewriteModel(await readFile(file), passes, { int8Ranges });
    ctx.logger.debug({ model: ctx.modelName, version: ctx.version, changed }, 'onnx graph rewritten');
    return model;
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new InferdError('invalid_config', `onnxruntime.graph_rewrites: cannot rewrite ${file}: ${reason}`);
  }
}

export const onnxBackend: BackendFactory = {
  name: 'onnxruntime',
  platform: 'onnxruntime_onnx',
  configSection: onnxConfigSection,
  async load(ctx: LoadContext): Promise<Backend> {
    const cfg = ctx.config;
    const file = resolveModelFile(ctx.versionDir, cfg.default_model_filename);
    try {
      await access(file);
    } catch {
      throw new InferdError(
        'invalid_config',
        `default_model_filename '${cfg.default_model_filename}': model file not found: ${file}`,
      );
    }
    const ortCfg = onnxSection(cfg);
    const explicit: TuningInput['explicit'] = {
      instances: cfg.instance_group?.reduce((n, g) => n + g.count, 0),
      threads: ortCfg.intra_op_num_threads,
      maxBatchSize: maxBatchSizeGiven(cfg) ? cfg.max_batch_size : undefined,
      pipelineDepth: ortCfg.pipeline_depth,
      ...(ortCfg.execution ? { execution: ortCfg.execution } : {}),
      ...(ortCfg.idle_inline_rows !== undefined ? { idleInlineRows: ortCfg.idle_inline_rows } : {}),
    };
    // Inline execution is only chosen for a model whose config made no scheduling choice: a
    // configured batching window or a thread priority below the event loop asks for batches and
    // threads, which inline would not give.
    const workerBecause =
      ortCfg.execution === undefined
        ? cfg.dynamic_batching !== undefined
          ? 'the config sets dynamic_batching'
          : ortCfg.thread_priority !== undefined && ortCfg.thread_priority !== 'normal'
            ? `the config sets thread_priority ${ortCfg.thread_priority}`
            : undefined
        : undefined;
    if (workerBecause) explicit.execution = 'worker';
    const base = {
      model: ortCfg.graph_rewrites?.length
        ? await rewritten(file, ortCfg.graph_rewrites, ctx, ortCfg.int8_calibration)
        : file,
      executionProvider: ortCfg.execution_provider,
      graphOptimizationLevel: ortCfg.graph_optimization_level,
      threadPriority: ortCfg.thread_priority ?? DEFAULT_THREAD_PRIORITY,
    } as const;
    let started: Started[];
    let tuning: BackendTuning | undefined;
    let idle: IdleLane | undefined;
    let depth: number;
    const { execution: _execution, idleInlineRows: _idle, ...settled } = explicit;
    if (Object.values(settled).some((v) => v === undefined)) {
      ({ started, tuning, idle } = await loadTuned(ctx, base, explicit, file));
      if (workerBecause) tuning.reasons.execution = `worker threads: ${workerBecause}`;
      depth = tuning.pipelineDepth;
    } else if (ortCfg.execution === 'inline') {
      started = [await startInline({ ...base, intraOpNumThreads: explicit.threads! }, file)];
      depth = 1;
    } else {
      started = await startAll({ ...base, intraOpNumThreads: explicit.threads! }, explicit.instances!, file);
      depth = explicit.pipelineDepth!;
      if (explicit.idleInlineRows) {
        const lane = await startIdleLane(base, file, started);
        idle = { instance: lane, maxRows: explicit.idleInlineRows, batched: cfg.max_batch_size > 0 };
      }
    }
    const first = started[0]!;
    let metadata: BackendMetadata;
    try {
      metadata = {
        platform: 'onnxruntime_onnx',
        inputs: mergeSpecs('input', first.inputs, cfg),
        outputs: mergeSpecs('output', first.outputs, cfg),
      };
    } catch (err) {
      await Promise.all(
        [...started.map((s) => s.instance), ...(idle ? [idle.instance] : [])].map((i) => i.stop()),
      );
      throw err;
    }
    ctx.logger.info(
      {
        model: ctx.modelName,
        version: ctx.version,
        instances: started.length,
        pipelineDepth: depth,
        ...(tuning ? { tuning: tuning.reasons, calibration: tuning.curve } : {}),
      },
      'onnx sessions ready',
    );
    return new OnnxBackend(
      metadata,
      started.map((s) => s.instance),
      depth,
      ctx.modelName,
      tuning,
      idle,
      // Not for CUDA: a second device session is not the cheap idle-priority copy this is.
      base.executionProvider === 'cpu'
        ? new BackgroundLane(base, (reason) =>
            ctx.logger.warn({ model: ctx.modelName, version: ctx.version, reason }, 'background lane failed'),
          )
        : undefined,
    );
  },
};
