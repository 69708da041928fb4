/**
 * The ONNX Runtime backend: `instance_group.count` worker threads, each with its own session.
 * The main thread only moves tensors; it never calls `session.run`.
 */
import { access } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import type { Tensor } from '../../core/tensor.js';
import { InferdError } from '../../errors.js';
import type { ModelConfig } from '../../repository/model-config.js';
import type { Backend, BackendFactory, BackendMetadata, LoadContext, TensorSpec } from '../backend.js';
import { defaultIntraOpThreads } from '../cpu-quota.js';
import { fromWire, toWire } from './convert.js';
import { OnnxInstance } from './instance.js';
import { resolveConfigPath } from '../npm-path.js';

/**
 * Where the model file is: `default_model_filename` inside the version folder, an absolute path,
 * or `npm:<package>/<path>` for a model shipped in an npm package (resolved on Node's lookup path,
 * also for packages whose `exports` map hides their files).
 */
export function resolveModelFile(versionDir: string, filename: string): string {
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

class OnnxBackend implements Backend {
  private waiting: Array<(i: OnnxInstance) => void> = [];
  private readonly reserved = new Set<OnnxInstance>();

  constructor(
    readonly metadata: BackendMetadata,
    private readonly instances: OnnxInstance[],
  ) {}

  get concurrency(): number {
    return this.instances.length;
  }

  async infer(inputs: Tensor[], outputNames?: string[]): Promise<Tensor[]> {
    const names = outputNames ?? this.metadata.outputs.map((o) => o.name);
    const instance = await this.acquire();
    try {
      const { outputs } = await instance.run(inputs.map(toWire), names);
      return outputs.map(fromWire);
    } finally {
      this.release(instance);
    }
  }

  async unload(): Promise<void> {
    await Promise.all(this.instances.map((i) => i.stop()));
  }

  private acquire(): Promise<OnnxInstance> {
    const idle = this.instances.find((i) => !this.reserved.has(i) && i.alive);
    if (idle) {
      // Reserved synchronously so that two callers in one tick never pick the same instance.
      this.reserved.add(idle);
      return Promise.resolve(idle);
    }
    if (!this.instances.some((i) => i.alive)) {
      return Promise.reject(new InferdError('backend_error', 'every instance of this model has stopped'));
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(instance: OnnxInstance): void {
    const next = this.waiting.shift();
    if (next && instance.alive) next(instance);
    else this.reserved.delete(instance);
  }
}

export const onnxBackend: BackendFactory = {
  name: 'onnxruntime',
  platform: 'onnxruntime_onnx',
  async load(ctx: LoadContext): Promise<Backend> {
    const cfg = ctx.config;
    const file = resolveModelFile(ctx.versionDir, cfg.default_model_filename);
    try {
      await access(file);
    } catch {
      throw new InferdError('invalid_config', `model file not found: ${file}`);
    }
    const count = cfg.instance_group?.reduce((n, g) => n + g.count, 0) ?? 1;
    const ortCfg = cfg.onnxruntime;
    const settings = {
      model: file,
      intraOpNumThreads: ortCfg?.intra_op_num_threads ?? defaultIntraOpThreads(count),
      executionProvider: ortCfg?.execution_provider ?? 'cpu',
      graphOptimizationLevel: ortCfg?.graph_optimization_level ?? 'all',
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
    );
  },
};
