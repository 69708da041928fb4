/**
 * Triton's model configuration (as config.pbtxt decodes it, or a config.json in the same JSON
 * shape) → the fields inferd's config schema reads (core/model-config.ts). Each Triton field is
 * mapped, accepted and stored, ignored because it cannot change what inferd computes, or refused
 * with the reason: the table in docs/configuration.md ("Triton fields") is this file in prose.
 * Fields at their default value (what Triton's own JSON prints for every field) are never refused.
 */
import { InferdError } from '../errors.js';
import { fieldAt, type ConfigOrigin } from '../core/model-config.js';
import { ensembleToPipeline } from './ensemble.js';

type Obj = Record<string, unknown>;

/** Parameter asking for CPU instances where the config says KIND_GPU and no GPU provider exists. */
const CPU_FALLBACK_PARAMETER = 'cpu_fallback';

/** Top-level fields refused when set: inferd has no equivalent, and ignoring them changes results. */
const REFUSED: Record<string, string> = {
  sequence_batching: 'the sequence batcher is not supported',
  batch_input: 'batch inputs are not supported',
  batch_output: 'batch outputs are not supported',
  model_repository_agents: 'repository agents are not supported',
  model_operations: 'custom operation libraries are not supported',
  runtime: 'a backend library file cannot be chosen; inferd has built-in backends',
  cc_model_filenames: 'per-compute-capability model files are not supported',
};

/** Top-level fields accepted and ignored: they tune what inferd does not have (see the docs table). */
const IGNORED = new Set(['metric_tags', 'model_metrics']);

/** Tensor fields refused when set (not at their default). */
const TENSOR_REFUSED: Record<string, string> = {
  reshape: 'reshape is not supported; give the model the shape it declares',
  is_shape_tensor: 'shape tensors are TensorRT-only',
  allow_ragged_batch: 'ragged batching is not supported',
  is_non_linear_format_io: 'non-linear IO formats are TensorRT-only',
};

/** Instance group fields that select GPUs or rate limits: accepted and ignored on CPU. */
const GROUP_IGNORED = new Set(['gpus', 'secondary_devices', 'profile', 'host_policy', 'rate_limiter']);

function isDefault(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === 'object') return Object.values(v as Obj).every(isDefault);
  return false;
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export interface TritonContext {
  model: string;
  origin: ConfigOrigin;
  /** Whether this machine has a GPU ONNX Runtime can use (gpu.ts). */
  gpu: boolean;
}

/** Maps a raw config object in place of the one read; throws `invalid_config` naming file, line, field. */
export function fromTriton(raw: unknown, ctx: TritonContext): unknown {
  if (!isObj(raw)) return raw;
  const bad = (path: PropertyKey[], why: string): InferdError =>
    new InferdError(
      'invalid_config',
      `model '${ctx.model}': ${ctx.origin.file} ${fieldAt(ctx.origin, path)}: ${why}`,
    );
  const cfg: Obj = { ...raw };

  for (const [key, why] of Object.entries(REFUSED)) {
    // A scheduler is chosen by being present, even empty (`sequence_batching {}`).
    if (key === 'sequence_batching' ? cfg[key] !== undefined : !isDefault(cfg[key])) throw bad([key], why);
    delete cfg[key];
  }
  for (const key of IGNORED) delete cfg[key];
  // Only `enable` exists; Triton's JSON prints `response_cache: {enable: false}` for every model.
  if (cfg.response_cache !== undefined && isDefault(cfg.response_cache)) delete cfg.response_cache;
  const decoupled = (cfg.model_transaction_policy as Obj | undefined)?.decoupled;
  if (decoupled === true)
    throw bad(['model_transaction_policy', 'decoupled'], 'decoupled models are not supported');
  delete cfg.model_transaction_policy;
  if (cfg.backend === '') delete cfg.backend;
  if (cfg.platform === '') delete cfg.platform;
  if (cfg.default_model_filename === '') delete cfg.default_model_filename;
  if (cfg.name === '') delete cfg.name;

  for (const kind of ['input', 'output'] as const) {
    if (!Array.isArray(cfg[kind])) continue;
    cfg[kind] = (cfg[kind] as unknown[]).map((t, i) => {
      if (!isObj(t)) return t;
      const out: Obj = { ...t };
      for (const [key, why] of Object.entries(TENSOR_REFUSED)) {
        if (!isDefault(out[key])) throw bad([kind, i, key], why);
        delete out[key];
      }
      if (out.label_filename === '') delete out.label_filename;
      if (kind === 'input' && out.optional === false) delete out.optional;
      return out;
    });
  }

  if (isObj(cfg.parameters)) {
    cfg.parameters = unwrapParameters(cfg.parameters);
    mapThreadParameters(cfg, cfg.parameters as Obj, bad);
  }
  if (isObj(cfg.optimization)) {
    mapOptimization(cfg, cfg.optimization);
  }
  delete cfg.optimization;
  if (isObj(cfg.dynamic_batching)) cfg.dynamic_batching = mapDynamicBatching(cfg.dynamic_batching, bad);
  if (isObj(cfg.version_policy) && isObj(cfg.version_policy.latest)) {
    // Triton reads num_versions 0 (its proto default) as 1.
    const n = cfg.version_policy.latest.num_versions;
    if (n === undefined || n === 0) cfg.version_policy = { latest: { num_versions: 1 } };
  }
  if (Array.isArray(cfg.instance_group)) {
    cfg.instance_group = (cfg.instance_group as unknown[]).map((g, i) => mapGroup(g, i, cfg, ctx, bad));
  }
  if (cfg.ensemble_scheduling !== undefined || cfg.platform === 'ensemble') {
    if (cfg.pipeline !== undefined)
      throw bad(['ensemble_scheduling'], 'a model has either "pipeline" or "ensemble_scheduling"');
    const outputs = Array.isArray(cfg.output) ? cfg.output.map((o) => String((o as Obj).name)) : [];
    cfg.pipeline = ensembleToPipeline(cfg.ensemble_scheduling, outputs, (path, why) =>
      bad(['ensemble_scheduling', ...path], why),
    );
    if (cfg.model_warmup !== undefined && !isDefault(cfg.model_warmup)) {
      throw bad(['model_warmup'], "an ensemble cannot have model_warmup (Triton's rule)");
    }
    delete cfg.ensemble_scheduling;
    // platform "ensemble" stays (the config endpoints report the steps as ensemble_scheduling).
    cfg.platform = 'ensemble';
    cfg.backend = 'pipeline';
  }
  if (Array.isArray(cfg.model_warmup) && cfg.model_warmup.length === 0) delete cfg.model_warmup;
  return cfg;
}

/** `{"k": {"string_value": "v"}}` (Triton) → `{"k": "v"}`; inferd's own free-form values pass. */
function unwrapParameters(params: Obj): Obj {
  const out: Obj = {};
  for (const [k, v] of Object.entries(params)) {
    out[k] =
      isObj(v) && Object.keys(v).length === 1 && typeof v.string_value === 'string' ? v.string_value : v;
  }
  return out;
}

/**
 * Parameters of Triton's ONNX Runtime backend that have an inferd setting: `intra_op_thread_count`
 * → onnxruntime.intra_op_num_threads, and inferd's own `pipeline_depth` → onnxruntime.pipeline_depth
 * (so a config.pbtxt can say everything `inferd tune` recommends). The onnxruntime section wins.
 */
const THREAD_PARAMETERS: Record<string, string> = {
  intra_op_thread_count: 'intra_op_num_threads',
  pipeline_depth: 'pipeline_depth',
};

function mapThreadParameters(
  cfg: Obj,
  params: Obj,
  bad: (path: PropertyKey[], why: string) => InferdError,
): void {
  for (const [param, field] of Object.entries(THREAD_PARAMETERS)) {
    const v = params[param];
    if (v === undefined) continue;
    const n =
      typeof v === 'string' && /^\d{1,3}$/.test(v.trim()) ? Number(v) : typeof v === 'number' ? v : NaN;
    if (!Number.isInteger(n) || n < 1) {
      throw bad(['parameters', param], `must be a positive whole number as a string, e.g. "2"`);
    }
    const section = isObj(cfg.onnxruntime) ? { ...cfg.onnxruntime } : {};
    section[field] ??= n;
    cfg.onnxruntime = section;
    delete params[param];
  }
}

/** optimization.graph.level → onnxruntime.graph_optimization_level (Triton's ONNX meaning); the rest is GPU-only. */
function mapOptimization(cfg: Obj, opt: Obj): void {
  const level = (opt.graph as Obj | undefined)?.level;
  if (typeof level !== 'number' || level === 0) return;
  const section = isObj(cfg.onnxruntime) ? { ...cfg.onnxruntime } : {};
  section.graph_optimization_level ??= level < 0 ? 'basic' : 'extended';
  cfg.onnxruntime = section;
}

function mapDynamicBatching(db: Obj, bad: (path: PropertyKey[], why: string) => InferdError): Obj {
  const out: Obj = { ...db };
  const policy = out.default_queue_policy;
  delete out.default_queue_policy;
  if (isObj(policy)) {
    if (policy.timeout_action === 'DELAY') {
      throw bad(
        ['dynamic_batching', 'default_queue_policy', 'timeout_action'],
        'DELAY is not supported; timed-out requests are refused (REJECT)',
      );
    }
    if (typeof policy.max_queue_size === 'number' && policy.max_queue_size > 0)
      out.max_queue_size ??= policy.max_queue_size;
    if (typeof policy.default_timeout_microseconds === 'number' && policy.default_timeout_microseconds > 0) {
      out.default_timeout_microseconds ??= policy.default_timeout_microseconds;
    }
  }
  // Per-priority policies: each level gets the default policy (documented).
  delete out.priority_queue_policy;
  if (out.priority_levels === 0) delete out.priority_levels;
  if (out.default_priority_level === 0) delete out.default_priority_level;
  if (out.preserve_ordering === false) delete out.preserve_ordering;
  return out;
}

function mapGroup(
  g: unknown,
  i: number,
  cfg: Obj,
  ctx: TritonContext,
  bad: (path: PropertyKey[], why: string) => InferdError,
): unknown {
  if (!isObj(g)) return g;
  const out: Obj = { ...g };
  for (const key of GROUP_IGNORED) delete out[key];
  if (out.passive === true)
    throw bad(['instance_group', i, 'passive'], 'passive instances are not supported');
  delete out.passive;
  if (out.name === '') delete out.name;
  if (out.count === 0) delete out.count;
  const kind =
    typeof out.kind === 'string' ? out.kind.toUpperCase().replace(/^(?!KIND_)/, 'KIND_') : undefined;
  if (kind === 'KIND_GPU') {
    const section = isObj(cfg.onnxruntime) ? cfg.onnxruntime : {};
    const provider = section.execution_provider;
    const params = isObj(cfg.parameters) ? cfg.parameters : {};
    const fallback = params[CPU_FALLBACK_PARAMETER] === 'true' || params[CPU_FALLBACK_PARAMETER] === true;
    if (ctx.gpu && provider !== 'cpu') {
      cfg.onnxruntime = { ...section, execution_provider: 'cuda' };
    } else if (fallback) {
      out.kind = 'KIND_CPU';
    } else {
      const why = ctx.gpu
        ? "onnxruntime.execution_provider is 'cpu'"
        : 'this machine has no GPU ONNX Runtime can use (no /dev/nvidiactl)';
      throw bad(
        ['instance_group', i, 'kind'],
        `KIND_GPU needs a GPU execution provider, but ${why}; use KIND_CPU, or set the parameter ` +
          `'${CPU_FALLBACK_PARAMETER}' to "true" to run these instances on the CPU`,
      );
    }
  }
  return out;
}
