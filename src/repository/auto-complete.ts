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
