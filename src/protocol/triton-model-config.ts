/**
 * A model's completed config in Triton's shape, as Triton's GET /v2/models/{m}/config prints it
 * (every field of model_config.proto's ModelConfig with its default: `data_type: "TYPE_FP32"`,
 * `format`, `label_filename`, `instance_group` with `kind` and `count`, 64-bit integers as JSON
 * numbers), so that Triton's clients read it unchanged. The gRPC ModelConfig RPC serialises the same
 * object against the vendored proto/triton/model_config.proto. inferd's own additions (aliases,
 * signature, …) are not part of Triton's message and are left out.
 */
import type { Datatype } from '../core/tensor.js';
import type { ModelConfig } from '../core/model-config.js';

type Obj = Record<string, unknown>;

function typeEnum(dt: Datatype): string {
  return dt === 'BYTES' ? 'TYPE_STRING' : `TYPE_${dt}`;
}

/** The kind the instances actually have: KIND_AUTO and KIND_MODEL run on the CPU. */
function kindEnum(kind: string | undefined): string {
  const k = (kind ?? '').toUpperCase().replace(/^KIND_/, '');
  return k === 'GPU' ? 'KIND_GPU' : 'KIND_CPU';
}

function versionPolicy(p: ModelConfig['version_policy']): Obj {
  if ('latest' in p) return { latest: { num_versions: p.latest.num_versions } };
  if ('specific' in p) return { specific: { versions: p.specific.versions } };
  return { all: {} };
}

function dynamicBatching(d: NonNullable<ModelConfig['dynamic_batching']>): Obj {
  return {
    preferred_batch_size: d.preferred_batch_size,
    max_queue_delay_microseconds: d.max_queue_delay_microseconds,
    preserve_ordering: d.preserve_ordering ?? false,
    priority_levels: d.priority_levels ?? 0,
    default_priority_level: d.default_priority_level ?? 0,
    default_queue_policy: {
      timeout_action: 'REJECT',
      default_timeout_microseconds: d.default_timeout_microseconds ?? 0,
      allow_timeout_override: false,
      max_queue_size: d.max_queue_size ?? 0,
    },
    priority_queue_policy: {},
  };
}

/** A pipeline made only of model steps (what an ensemble_scheduling maps to) as Triton's ensemble. */
function ensembleScheduling(pipeline: unknown): Obj | undefined {
  const steps = (pipeline as { steps?: unknown } | undefined)?.steps;
  if (!Array.isArray(steps)) return undefined;
  const out: Obj[] = [];
  for (const s of steps as Obj[]) {
    if (typeof s.model !== 'string') return undefined;
    out.push({
      model_name: s.model,
      model_version: s.version === undefined ? -1 : Number(s.version),
      input_map: s.inputs ?? {},
      output_map: s.outputs ?? {},
      model_namespace: '',
    });
  }
  return { step: out, max_inflight_responses: 0 };
}

function backendOf(cfg: ModelConfig): string {
  if (cfg.backend) return cfg.backend;
  return cfg.platform === undefined || cfg.platform === 'onnxruntime_onnx' ? 'onnxruntime' : '';
}

export function tritonModelConfig(cfg: ModelConfig): Obj {
  const name = cfg.name ?? '';
  const parameters: Record<string, { string_value: string }> = {};
  for (const [k, v] of Object.entries(cfg.parameters ?? {})) {
    parameters[k] = { string_value: typeof v === 'string' ? v : JSON.stringify(v) };
  }
  const groups = cfg.instance_group ?? [{ count: 1, kind: 'KIND_CPU' }];
  const msg: Obj = {
    name,
    platform: cfg.platform ?? '',
    backend: backendOf(cfg),
    runtime: '',
    version_policy: versionPolicy(cfg.version_policy),
    max_batch_size: cfg.max_batch_size,
    input: (cfg.input ?? []).map((t) => ({
      name: t.name,
      data_type: typeEnum(t.data_type),
      format: t.format ?? 'FORMAT_NONE',
      dims: t.dims,
      is_shape_tensor: false,
      allow_ragged_batch: false,
      optional: t.optional ?? false,
      is_non_linear_format_io: false,
    })),
    output: (cfg.output ?? []).map((t) => ({
      name: t.name,
      data_type: typeEnum(t.data_type),
      dims: t.dims,
      label_filename: t.label_filename ?? '',
      is_shape_tensor: false,
      is_non_linear_format_io: false,
    })),
    batch_input: [],
    batch_output: [],
    optimization: {
      priority: 'PRIORITY_DEFAULT',
      input_pinned_memory: { enable: true },
      output_pinned_memory: { enable: true },
      gather_kernel_buffer_threshold: 0,
      eager_batching: false,
    },
    instance_group: groups.map((g, i) => ({
      name: g.name ?? `${name}_${i}`,
      kind: kindEnum(g.kind),
      count: g.count,
      gpus: [],
      secondary_devices: [],
      profile: [],
      passive: false,
      host_policy: '',
    })),
    default_model_filename: cfg.default_model_filename,
    cc_model_filenames: {},
    metric_tags: {},
    parameters,
    model_warmup: cfg.model_warmup ?? [],
    response_cache: { enable: cfg.response_cache?.enable ?? false },
  };
  const ensemble = cfg.platform === 'ensemble' ? ensembleScheduling(cfg.pipeline) : undefined;
  if (ensemble) {
    msg.ensemble_scheduling = ensemble;
    msg.instance_group = [];
  } else if (cfg.dynamic_batching) {
    msg.dynamic_batching = dynamicBatching(cfg.dynamic_batching);
  }
  return msg;
}
