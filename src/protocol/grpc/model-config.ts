/**
 * inferd's JSON model config (Triton's field names) → Triton's ModelConfig protobuf message
 * (proto/model_config.proto). Datatypes become TYPE_* enums, queue settings move into
 * default_queue_policy, and free-form parameters become ModelParameter.string_value.
 */
import type { Datatype } from '../../core/tensor.js';
import type { ModelConfig } from '../../core/model-config.js';

function typeEnum(dt: Datatype): string {
  return dt === 'BYTES' ? 'TYPE_STRING' : `TYPE_${dt}`;
}

function kindEnum(kind: string | undefined): string {
  const k = (kind ?? '').toUpperCase();
  if (k === 'KIND_CPU' || k === 'CPU') return 'KIND_CPU';
  if (k === 'KIND_GPU' || k === 'GPU') return 'KIND_GPU';
  return 'KIND_AUTO';
}

function versionPolicy(p: ModelConfig['version_policy']): Record<string, unknown> {
  if ('latest' in p) return { latest: { num_versions: p.latest.num_versions } };
  if ('specific' in p) return { specific: { versions: p.specific.versions } };
  return { all: {} };
}

function dynamicBatching(d: NonNullable<ModelConfig['dynamic_batching']>): Record<string, unknown> {
  return {
    preferred_batch_size: d.preferred_batch_size,
    max_queue_delay_microseconds: d.max_queue_delay_microseconds,
    priority_levels: d.priority_levels ?? 0,
    default_priority_level: d.default_priority_level ?? 0,
    default_queue_policy: {
      default_timeout_microseconds: d.default_timeout_microseconds ?? 0,
      max_queue_size: d.max_queue_size ?? 0,
    },
  };
}

/** The message object handed to the ModelConfigResponse serializer. */
export function modelConfigMessage(cfg: ModelConfig): Record<string, unknown> {
  const parameters: Record<string, { string_value: string }> = {};
  for (const [k, v] of Object.entries(cfg.parameters ?? {})) {
    parameters[k] = { string_value: typeof v === 'string' ? v : JSON.stringify(v) };
  }
  const msg: Record<string, unknown> = {
    name: cfg.name ?? '',
    platform: cfg.platform ?? '',
    backend: cfg.backend ?? '',
    version_policy: versionPolicy(cfg.version_policy),
    max_batch_size: cfg.max_batch_size,
    input: (cfg.input ?? []).map((t) => ({
      name: t.name,
      data_type: typeEnum(t.data_type),
      dims: t.dims,
      optional: t.optional ?? false,
    })),
    output: (cfg.output ?? []).map((t) => ({ name: t.name, data_type: typeEnum(t.data_type), dims: t.dims })),
    instance_group: (cfg.instance_group ?? []).map((g) => ({ kind: kindEnum(g.kind), count: g.count })),
    default_model_filename: cfg.default_model_filename,
    parameters,
  };
  if (cfg.dynamic_batching) msg.dynamic_batching = dynamicBatching(cfg.dynamic_batching);
  return msg;
}
