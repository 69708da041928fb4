/**
 * Checks a decoded request against the model's metadata before it is queued, so that a bad request
 * is refused with a message naming the input, and never reaches a runtime.
 */
import { elementCount, type InferenceRequest } from '../core/tensor.js';
import { InferdError } from '../errors.js';
import type { BackendMetadata, TensorSpec } from '../core/model.js';

const list = (specs: TensorSpec[]): string => specs.map((s) => `'${s.name}'`).join(', ') || 'none';
const fmt = (shape: number[]): string => `[${shape.join(', ')}]`;

export function validateRequest(
  req: InferenceRequest,
  meta: BackendMetadata,
  maxBatchSize: number,
  optionalInputs: ReadonlySet<string> = new Set(),
): void {
  // Requests name a handful of inputs: an array is cheaper than a Set on this per-request path.
  const seen: string[] = [];
  let batch: number | undefined;
  for (const t of req.inputs) {
    if (seen.includes(t.name))
      throw new InferdError('invalid_request', `input '${t.name}' is given more than once`);
    seen.push(t.name);
    const spec = meta.inputs.find((s) => s.name === t.name);
    if (!spec) {
      throw new InferdError(
        'unknown_input',
        `model '${req.modelName}' has no input '${t.name}'; its inputs are ${list(meta.inputs)}`,
      );
    }
    if (spec.datatype !== t.datatype) {
      throw new InferdError(
        'datatype_mismatch',
        `input '${t.name}' must be ${spec.datatype}, got ${t.datatype}`,
      );
    }
    if (spec.shape.length !== t.shape.length || spec.shape.some((d, i) => d !== -1 && d !== t.shape[i])) {
      throw new InferdError(
        'shape_mismatch',
        `input '${t.name}' has shape ${fmt(t.shape)} but model '${req.modelName}' expects ${fmt(spec.shape)} (-1 = any size)`,
      );
    }
    if (elementCount(t.shape) !== t.data.length) {
      throw new InferdError(
        'invalid_input',
        `input '${t.name}' has ${t.data.length} elements but its shape ${fmt(t.shape)} needs ${elementCount(t.shape)}`,
      );
    }
    if (maxBatchSize > 0) {
      const rows = t.shape[0]!;
      if (batch !== undefined && rows !== batch) {
        throw new InferdError(
          'shape_mismatch',
          `input '${t.name}' has batch size ${rows} but another input has ${batch}; all inputs share dim 0`,
        );
      }
      batch = rows;
      if (rows > maxBatchSize) {
        throw new InferdError(
          'invalid_request',
          `batch size ${rows} of input '${t.name}' exceeds the model's max_batch_size ${maxBatchSize}`,
        );
      }
      if (rows === 0)
        throw new InferdError('invalid_input', `input '${t.name}' has an empty batch (dim 0 is 0)`);
    }
  }
  if (seen.length < meta.inputs.length || optionalInputs.size > 0)
    checkMissing(req, meta, seen, optionalInputs);
  if (req.outputs) checkOutputs(req, meta);
}

function checkMissing(
  req: InferenceRequest,
  meta: BackendMetadata,
  seen: string[],
  optionalInputs: ReadonlySet<string>,
): void {
  const missing = meta.inputs.filter((s) => !seen.includes(s.name) && !optionalInputs.has(s.name));
  if (missing.length > 0) {
    throw new InferdError(
      'missing_input',
      `model '${req.modelName}' needs input(s) ${list(missing)} which the request does not give`,
    );
  }
}

function checkOutputs(req: InferenceRequest, meta: BackendMetadata): void {
  for (const o of req.outputs ?? []) {
    if (!meta.outputs.some((s) => s.name === o.name)) {
      throw new InferdError(
        'unknown_output',
        `model '${req.modelName}' has no output '${o.name}'; its outputs are ${list(meta.outputs)}`,
      );
    }
  }
}
