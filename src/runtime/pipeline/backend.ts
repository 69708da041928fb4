/**
 * The pipeline backend: a model whose config lists steps (registered TypeScript functions or calls
 * to other models through `ctx.invoker`) wired by tensor name. Steps run in the listed order on the
 * main thread; model steps go through the scheduler like any client request, so the models they
 * call keep their batching, metrics and statistics.
 */
import type { Tensor } from '../../core/tensor.js';
import { BytesData } from '../../core/bytes-data.js';
import { InferdError, toInferdError } from '../../errors.js';
import type { Backend, BackendFactory, LoadContext } from '../backend.js';
import type { BackendMetadata, TensorSpec } from '../../core/model.js';
import type { ModelConfig, TensorConfig } from '../../core/model-config.js';
import { parsePipelineConfig, pipelineDependencies, type PipelineStepConfig } from './config.js';
import type { StepContext, StepRegistry, StepRunner, StepTensors } from './registry.js';

/** Wall time spent per step since load (milliseconds), for benchmarks and diagnostics. */
export interface StepTiming {
  step: string;
  calls: number;
  totalMs: number;
}

interface PlannedStep {
  label: string;
  config: PipelineStepConfig;
  /** Set for function steps; model steps call the invoker. */
  run?: StepRunner;
  timing: StepTiming;
}

function toSpecs(tensors: TensorConfig[], cfg: ModelConfig): TensorSpec[] {
  return tensors.map((t) => ({
    name: t.name,
    datatype: t.data_type,
    shape: cfg.max_batch_size > 0 ? [-1, ...t.dims] : [...t.dims],
  }));
}

/** A tensor with its own storage: a model may take (transfer) what it is handed. */
function copyTensor(t: Tensor): Tensor {
  const data =
    t.data instanceof BytesData
      ? new BytesData(t.data.bytes.slice(), t.data.offsets.slice())
      : t.data.slice();
  return { ...t, shape: [...t.shape], data };
}

export class PipelineBackend implements Backend {
  constructor(
    readonly metadata: BackendMetadata,
    private readonly steps: PlannedStep[],
    private readonly ctx: LoadContext,
    /** From `pipeline.max_concurrency`: pipelines have no instances to count. */
    readonly concurrency: number,
  ) {}

  get timings(): StepTiming[] {
    return this.steps.map((s) => ({ ...s.timing }));
  }

  async infer(inputs: Tensor[], outputNames?: string[], signal?: AbortSignal): Promise<Tensor[]> {
    const tensors = new Map<string, Tensor>(inputs.map((t) => [t.name, t]));
    const stepCtx: StepContext = {
      invoker: this.ctx.invoker,
      signal,
      logger: this.ctx.logger,
      modelName: this.ctx.modelName,
    };
    for (const [i, step] of this.steps.entries()) {
      if (signal?.aborted) {
        this.ctx.events?.stepsCanceled(this.steps.length - i);
        throw new InferdError('canceled', 'request canceled');
      }
      const stepInputs: StepTensors = {};
      for (const [local, name] of Object.entries(step.config.inputs)) {
        const t = tensors.get(name);
        if (!t) throw new InferdError('missing_input', `pipeline tensor '${name}' is missing`);
        stepInputs[local] = { ...t, name: local };
      }
      const started = performance.now();
      let produced: StepTensors;
      try {
        produced = step.run
          ? await step.run(stepInputs, stepCtx)
          : await this.callModel(step, stepInputs, signal);
      } catch (err) {
        // Canceled inside this step (its model call left the queue): the later steps never run.
        if (signal?.aborted) this.ctx.events?.stepsCanceled(this.steps.length - i - 1);
        throw err instanceof InferdError
          ? err
          : new InferdError(
              'backend_error',
              `pipeline step '${step.label}' failed: ${toInferdError(err).message}`,
              {
                cause: err,
              },
            );
      } finally {
        step.timing.calls++;
        step.timing.totalMs += performance.now() - started;
      }
      for (const [local, name] of Object.entries(step.config.outputs)) {
        const t = produced[local];
        if (!t)
          throw new InferdError('backend_error', `pipeline step '${step.label}' did not return '${local}'`);
        tensors.set(name, { ...t, name });
      }
    }
    const wanted = outputNames ?? this.metadata.outputs.map((o) => o.name);
    return wanted.map((name) => {
      const t = tensors.get(name);
      if (!t) throw new InferdError('unknown_output', `pipeline has no output '${name}'`);
      return t;
    });
  }

  private async callModel(
    step: PlannedStep,
    inputs: StepTensors,
    signal?: AbortSignal,
  ): Promise<StepTensors> {
    const model = step.config.model as string;
    const handed = Object.values(inputs);
    const response = await this.ctx.invoker.infer({
      modelName: model,
      modelVersion: step.config.version,
      inputs: step.config.keep_inputs ? handed.map(copyTensor) : handed,
      outputs: Object.keys(step.config.outputs).map((name) => ({ name })),
      signal,
    });
    return Object.fromEntries(response.outputs.map((t) => [t.name, t]));
  }

  async unload(): Promise<void> {
    // Steps hold no native resources; the models they call are loaded and unloaded on their own.
  }
}

/** A pipeline factory over any step registry (tests and embedders can bring their own steps). */
export function createPipelineBackendFactory(registry: StepRegistry): BackendFactory {
  return {
    name: 'pipeline',
    platform: 'pipeline',
    dependencies: (config) => pipelineDependencies(config, registry),
    async load(ctx: LoadContext): Promise<PipelineBackend> {
      const cfg = ctx.config;
      const pipeline = parsePipelineConfig(cfg, registry, ctx.modelName);
      const loadCtx = { modelName: ctx.modelName, versionDir: ctx.versionDir, logger: ctx.logger };
      const steps: PlannedStep[] = [];
      for (const [i, config] of pipeline.steps.entries()) {
        const label = config.name ?? `steps[${i}]`;
        const def = config.function === undefined ? undefined : registry.get(config.function);
        let run: StepRunner | undefined;
        if (def) {
          try {
            run = await def.create(config.parameters, loadCtx);
          } catch (err) {
            const e = toInferdError(err);
            throw new InferdError(
              'invalid_config',
              `pipeline model '${ctx.modelName}' step '${label}': ${e.message}`,
              {
                cause: err,
              },
            );
          }
        }
        steps.push({ label, config, run, timing: { step: label, calls: 0, totalMs: 0 } });
      }
      const metadata: BackendMetadata = {
        platform: 'pipeline',
        inputs: toSpecs(cfg.input ?? [], cfg),
        outputs: toSpecs(cfg.output ?? [], cfg),
      };
      return new PipelineBackend(metadata, steps, ctx, pipeline.max_concurrency);
    },
  };
}
