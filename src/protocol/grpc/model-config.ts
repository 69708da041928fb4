/**
 * inferd's model config → Triton's ModelConfig protobuf message (the vendored
 * proto/triton/model_config.proto): the same object GET /v2/models/{m}/config answers
 * (protocol/triton-model-config.ts); field names are the proto's, enums are given by name.
 */
import type { ModelConfig } from '../../core/model-config.js';
import { tritonModelConfig } from '../triton-model-config.js';

/** The message object handed to the ModelConfigResponse serializer. */
export function modelConfigMessage(cfg: ModelConfig): Record<string, unknown> {
  return tritonModelConfig(cfg);
}
