/**
 * Triton's config auto-complete for ONNX models (onnxruntime_backend AutoCompleteConfig): what a
 * config leaves out is filled from the model once it is loaded, and the completed config is what
 * GET /v2/models/{m}/config reports.
 *   - `input` / `output` absent: every tensor of the model, with its datatype and dims (without
 *     the batch dimension when batching is on).
 *   - `max_batch_size` absent and every input and output of the model has a dynamic first
 *     dimension: the model can batch, so max_batch_size = the default (Triton's
 *     `--backend-config=default-max-batch-size`, 4; inferd's `--default-max-batch-size`, 0 turns
 *     this off), and dynamic batching is enabled when the config chose no scheduler.
 *   - `platform` absent: onnxruntime_onnx.
 */
import type { BackendMetadata, TensorSpec } from '../core/model.js';
import { backendName, maxBatchSizeGiven, type ModelConfig, type TensorConfig } from '../core/model-config.js';
import type { BackendTuning } from '../runtime/tuning.js';

/** Triton's default for `default-max-batch-size`. */
export const DEFAULT_MAX_BATCH_SIZE = 4;

function canBatch(specs: readonly TensorSpec[]): boolean {
  return specs.length > 0 && specs.every((s) => s.shape.length > 0 && s.shape[0] === -1);
}

function toConfig(specs: readonly TensorSpec[], batching: boolean): TensorConfig[] {
  return specs.map((s) => ({
    name: s.name,
    data_type: s.datatype,
    dims: batching ? s.shape.slice(1) : [...s.shape],
  }));
}

/** The config with what the model tells filled in; the same object when there is nothing to fill. */
export function autoComplete(
  cfg: ModelConfig,
  model: BackendMetadata,
  defaultMaxBatchSize: number,
): ModelConfig {
  if (backendName(cfg) !== 'onnxruntime') return cfg;
  const out: ModelConfig = { ...cfg, platform: cfg.platform ?? 'onnxruntime_onnx' };
  const declaresTensors = cfg.input !== undefined || cfg.output !== undefined;
  if (
    !maxBatchSizeGiven(cfg) &&
    !declaresTensors &&
    defaultMaxBatchSize > 0 &&
    canBatch(model.inputs) &&
    canBatch(model.outputs)
  ) {
    out.max_batch_size = defaultMaxBatchSize;
    out.dynamic_batching ??= { max_queue_delay_microseconds: 0, preferred_batch_size: [] };
  }
  const batching = out.max_batch_size > 0;
  out.input ??= toConfig(model.inputs, batching);
  out.output ??= toConfig(model.outputs, batching);
  return out;
}

/**
 * The self-tuned settings (runtime/tuning.ts) written into the completed config, so that
 * GET /v2/models/{m}/config shows what serves: the instance count and ONNX Runtime settings the
 * config left out, the adaptive window's bound when the config chose no queue delay (`windowed`:
 * auto-complete enabled batching), the ONNX Runtime settings as `parameters["inferd.<setting>"]`
 * (Triton's config has no field for them; its own ORT backend reports threads as parameters too)
 * and each tuned choice's reason under `parameters["inferd.tuning.<field>"]` (what the config set
 * is not annotated); parameters are strings
 * (Triton's `{string_value}` form on the wire).
 */
export function applyTuning(cfg: ModelConfig, tuning: BackendTuning, windowed: boolean): ModelConfig {
  const out: ModelConfig = { ...cfg };
  out.instance_group ??= [{ count: tuning.instances, kind: 'KIND_CPU' }];
  const ort = (cfg.onnxruntime ?? {}) as Record<string, unknown>;
  out.onnxruntime = {
    ...ort,
    intra_op_num_threads: ort.intra_op_num_threads ?? tuning.threads,
    pipeline_depth: ort.pipeline_depth ?? tuning.pipelineDepth,
    thread_priority: ort.thread_priority ?? tuning.threadPriority,
    execution: ort.execution ?? (tuning.inline ? 'inline' : 'worker'),
    idle_inline_rows: ort.idle_inline_rows ?? tuning.idleInlineRows,
  };
  const reasons = { ...tuning.reasons };
  const db = out.dynamic_batching;
  if (windowed && db && out.max_batch_size > 1) {
    out.dynamic_batching = { ...db, max_queue_delay_microseconds: tuning.maxQueueDelayUs };
  } else if (db && out.max_batch_size > 1 && tuning.curve.length > 1) {
    const bound = db.max_queue_delay_microseconds;
    reasons.max_queue_delay_microseconds =
      bound > 0 ? `config: a fixed wait of up to ${bound} µs for a batch (Triton's)` : 'config: 0, no wait';
  } else {
    delete reasons.max_queue_delay_microseconds;
  }
  const params: Record<string, unknown> = { ...(cfg.parameters ?? {}) };
  for (const [k, v] of Object.entries(out.onnxruntime as Record<string, unknown>)) {
    if (v !== undefined) params[`inferd.${k}`] = String(v);
  }
  for (const [field, why] of Object.entries(reasons)) {
    if (why !== 'config') params[`inferd.tuning.${field}`] = why;
  }
  if (tuning.curve.length > 0) {
    const points = tuning.curve.map((p) => `${p.rows}:${Math.round(p.us)}`).join(' ');
    params['inferd.tuning.calibration'] = `rows:µs (1 thread, fastest run) ${points}`;
  }
  out.parameters = params;
  return out;
}
