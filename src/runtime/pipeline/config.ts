/**
 * The `pipeline` field of a pipeline model's config.json, and its load-time validation.
 *
 *   "pipeline": { "steps": [
 *     { "name": "decode", "function": "ocr.decode_image", "inputs": {"image": "image"},
 *       "outputs": {"image": "pixels"}, "parameters": {"max_bytes": 20971520} },
 *     { "name": "detect", "model": "ocr-det", "inputs": {"x": "det_input"},
 *       "outputs": {"sigmoid_0.tmp_0": "det_map"} } ] }
 *
 * `inputs`/`outputs` map the step's own tensor names (a function's declared names, or another
 * model's input/output names) to pipeline tensor names. Pipeline tensors are the model's config
 * inputs plus every step output; each is produced once. Steps run in the order listed, so a step
 * may only read tensors that exist before it. A tensor fed to a model step is handed over to that
 * model (its buffer may be transferred to a worker thread), so nothing may read it afterwards.
 */
import { z } from 'zod';
import { InferdError } from '../../errors.js';
import type { ModelConfig } from '../../core/model-config.js';
import type { StepRegistry } from './registry.js';

const tensorMap = z.record(z.string().min(1), z.string().min(1));

const stepSchema = z
  .strictObject({
    name: z.string().min(1).optional(),
    function: z.string().min(1).optional(),
    model: z.string().min(1).optional(),
    /** Model steps only: a version number; default = the model's default version. */
    version: z
      .union([z.string(), z.number().int().min(0)])
      .transform(String)
      .optional(),
    inputs: tensorMap,
    outputs: tensorMap,
    parameters: z.record(z.string(), z.unknown()).default({}),
    /**
     * Model steps only: hand the model copies of its inputs, so later steps (and the pipeline's
     * outputs) may read the same tensors, as Triton ensembles allow. Costs one copy per input.
     */
    keep_inputs: z.boolean().default(false),
  })
  .refine((s) => (s.function === undefined) !== (s.model === undefined), {
    message: 'a step needs exactly one of "function" or "model"',
  });

const pipelineSchema = z.strictObject({
  steps: z.array(stepSchema).min(1),
  /**
   * Requests of this pipeline in flight at once (the scheduler's concurrency for it). Above 1,
   * one request's detection overlaps another's recognition; each holds its decoded image.
   */
  max_concurrency: z.number().int().min(1).max(256).default(4),
});

export type PipelineStepConfig = z.infer<typeof stepSchema>;
export type PipelineConfig = z.infer<typeof pipelineSchema>;

/** Parses and checks the wiring of `config.pipeline`; throws `invalid_config` naming the problem. */
export function parsePipelineConfig(
  config: ModelConfig,
  registry: StepRegistry,
  modelName: string,
): PipelineConfig {
  const bad = (msg: string): InferdError =>
    new InferdError('invalid_config', `pipeline model '${modelName}': ${msg}`);
  const res = pipelineSchema.safeParse(config.pipeline);
  if (!res.success) {
    const details = res.error.issues.map((i) => `pipeline.${i.path.join('.')}: ${i.message}`).join('; ');
    throw bad(`config.json is invalid: ${details}`);
  }
  if (!config.input?.length || !config.output?.length) {
    throw bad('a pipeline must declare "input" and "output" in config.json');
  }
  const pipeline = res.data;
  const available = new Set(config.input.map((t) => t.name));
  const handedOver = new Map<string, string>(); // tensor → model step that consumed it
  const stepNames = new Set<string>();

  pipeline.steps.forEach((step, i) => {
    const label = step.name ?? `steps[${i}]`;
    if (step.name !== undefined) {
      if (stepNames.has(step.name)) throw bad(`two steps are named '${step.name}'`);
      stepNames.add(step.name);
    }
    if (step.function !== undefined) {
      const def = registry.get(step.function);
      if (!def) {
        throw bad(
          `step '${label}': unknown function '${step.function}' (known: ${registry.names().join(', ')})`,
        );
      }
      for (const need of def.inputs) {
        if (!(need in step.inputs)) throw bad(`step '${label}': input '${need}' of ${def.name} is not wired`);
      }
      for (const key of Object.keys(step.inputs)) {
        if (!def.inputs.includes(key) && !def.optionalInputs?.includes(key)) {
          throw bad(`step '${label}': ${def.name} has no input '${key}'`);
        }
      }
      for (const key of Object.keys(step.outputs)) {
        if (!def.outputs.includes(key)) {
          throw bad(`step '${label}': ${def.name} has no output '${key}' (has ${def.outputs.join(', ')})`);
        }
      }
    }
    for (const [local, tensor] of Object.entries(step.inputs)) {
      if (handedOver.has(tensor)) {
        throw bad(
          `step '${label}' reads '${tensor}' after model step '${handedOver.get(tensor)}' consumed it`,
        );
      }
      if (!available.has(tensor)) {
        throw bad(`step '${label}': input '${local}' reads '${tensor}', which no earlier step produces`);
      }
    }
    if (step.model !== undefined && !step.keep_inputs) {
      for (const tensor of Object.values(step.inputs)) handedOver.set(tensor, label);
    }
    for (const tensor of Object.values(step.outputs)) {
      if (available.has(tensor)) throw bad(`step '${label}' produces '${tensor}', which already exists`);
      available.add(tensor);
    }
  });

  for (const out of config.output) {
    if (!available.has(out.name)) throw bad(`output '${out.name}' is not produced by any step`);
    if (handedOver.has(out.name))
      throw bad(`output '${out.name}' is consumed by model step '${handedOver.get(out.name)}'`);
  }
  return pipeline;
}

/**
 * The models a pipeline config calls: its model steps, and the models its function steps name
 * (StepDefinition.models). Read leniently from the raw config, so that the model manager can
 * check for call cycles before the load validates anything; what is malformed counts as no call.
 */
export function pipelineDependencies(config: ModelConfig, registry: StepRegistry): string[] {
  const steps = (config.pipeline as { steps?: unknown } | undefined)?.steps;
  if (!Array.isArray(steps)) return [];
  const out = new Set<string>();
  for (const raw of steps as unknown[]) {
    if (typeof raw !== 'object' || raw === null) continue;
    const step = raw as { model?: unknown; function?: unknown; parameters?: unknown };
    if (typeof step.model === 'string' && step.model !== '') out.add(step.model);
    if (typeof step.function === 'string') {
      const params =
        typeof step.parameters === 'object' && step.parameters !== null && !Array.isArray(step.parameters)
          ? (step.parameters as Record<string, unknown>)
          : {};
      for (const m of registry.get(step.function)?.models?.(params) ?? []) out.add(m);
    }
  }
  return [...out];
}
