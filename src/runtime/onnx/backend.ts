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
import { defaultIntraOpThreads } from '../cpu-quota.js';
import { fromWire, toWire } from './convert.js';
import { OnnxInstance } from './instance.js';
import { runFailure } from './run-errors.js';
import { onnxConfigSection, onnxSection } from './config.js';
import { resolveConfigPath } from '../npm-path.js';
import { rewriteModel } from './rewrite/passes.js';

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

class OnnxBackend implements Backend {
  private waiting: Array<{ resolve: (i: OnnxInstance) => void; reject: (e: Error) => void }> = [];
  /** Executions handed to each instance and not yet released (reserved synchronously). */
  private readonly inUse = new Map<OnnxInstance, number>();

  constructor(
    readonly metadata: BackendMetadata,
    private readonly instances: OnnxInstance[],
    private readonly depth: number,
    private readonly modelName: string,
  ) {}

  /** ONNX Runtime's string tensors are JS strings: BYTES must be UTF-8 to reach it unaltered. */
  readonly bytesAsText = true;

  get concurrency(): number {
    return this.instances.length * this.depth;
  }

  async infer(inputs: Tensor[], outputNames?: string[]): Promise<Tensor[]> {
    const names = outputNames ?? this.metadata.outputs.map((o) => o.name);
    // Read before the run: the input buffers move to the worker thread.
    const shapes = inputs.map((t) => ({ name: t.name, shape: t.shape }));
    const instance = await this.acquire();
    try {
      const { outputs } = await instance.run(inputs.map(toWire), names);
      return outputs.map(fromWire);
    } catch (err) {
      throw runFailure(err, { model: this.modelName, inputs: shapes, declared: this.metadata.inputs });
    } finally {
      this.release(instance);
    }
  }

  async unload(): Promise<void> {
    await Promise.all(this.instances.map((i) => i.stop()));
  }

  /** The least loaded live instance with room, reserved at once so that two callers in one tick never overfill one. */
  private acquire(): Promise<OnnxInstance> {
    let best: OnnxInstance | undefined;
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

  private release(instance: OnnxInstance): void {
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
 * Inference threads run below the event loop's priority by default. On the 2-core bench machine at
 * 10× overload (cnn model, 1,330 req/s), refusals waited up to 0.5–0.7 s (p99) with inference at
 * nice 10 and 16–120 ms with SCHED_IDLE; at the event loop's own priority the earlier run measured
 * a 56 ms median (bench/results/scheduler-*.md).
 */
const DEFAULT_THREAD_PRIORITY = 'idle';

/** The model's bytes after `onnxruntime.graph_rewrites`; a graph the passes cannot read fails the load. */
async function rewritten(
  file: string,
  passes: NonNullable<ReturnType<typeof onnxSection>['graph_rewrites']>,
  ctx: LoadContext,
): Promise<Uint8Array> {
  try {
    const { model, changed } = rewriteModel(await readFile(file), passes);
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
    const count = cfg.instance_group?.reduce((n, g) => n + g.count, 0) ?? 1;
    const ortCfg = onnxSection(cfg);
    const settings = {
      model: ortCfg?.graph_rewrites?.length ? await rewritten(file, ortCfg.graph_rewrites, ctx) : file,
      intraOpNumThreads: ortCfg?.intra_op_num_threads ?? defaultIntraOpThreads(count),
      executionProvider: ortCfg?.execution_provider ?? 'cpu',
      graphOptimizationLevel: ortCfg?.graph_optimization_level ?? 'all',
      threadPriority: ortCfg?.thread_priority ?? DEFAULT_THREAD_PRIORITY,
    } as const;
    const started = await Promise.allSettled(
      Array.from({ length: count }, () => OnnxInstance.start(settings)),
    );
    const ok = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const failed = started.find((s) => s.status === 'rejected');
    if (failed) {
      await Promise.all(ok.map((s) => s.instance.stop()));
      const reason = failed.reason instanceof Error ? failed.reason.message : String(failed.reason);
      throw new InferdError('backend_error', `ONNX Runtime could not load ${file}: ${reason}`);
    }
    const first = ok[0]!;
    let metadata: BackendMetadata;
    try {
      metadata = {
        platform: 'onnxruntime_onnx',
        inputs: mergeSpecs('input', first.inputs, cfg),
        outputs: mergeSpecs('output', first.outputs, cfg),
      };
    } catch (err) {
      await Promise.all(ok.map((s) => s.instance.stop()));
      throw err;
    }
    ctx.logger.debug(
      { model: ctx.modelName, version: ctx.version, instances: count, threads: settings.intraOpNumThreads },
      'onnx sessions ready',
    );
    return new OnnxBackend(
      metadata,
      ok.map((s) => s.instance),
      ortCfg?.pipeline_depth ?? DEFAULT_PIPELINE_DEPTH,
      ctx.modelName,
    );
  },
};
