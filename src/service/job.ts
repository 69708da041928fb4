/**
 * An accepted request as the scheduler takes it: validated against the model, inputs in the
 * model's order, its deadline (the request's, its `timeout` parameter, the model's default timeout)
 * and its priority level (Triton's `priority` parameter and `priority_levels`).
 */
import { clip } from '../core/clip.js';
import type { ModelConfig } from '../core/model-config.js';
import { BytesData, type InferenceRequest } from '../core/tensor.js';
import { timerDelayMs } from '../core/timers.js';
import { InferdError } from '../errors.js';
import type { ReadyVersion } from '../repository/model-version.js';
import type { Job } from '../scheduler/scheduler.js';
import { validateRequest } from './validate.js';

/** Triton's priority: 1 is the highest level; 0 or absent means the model's default level. */
const DEFAULT_PRIORITY_LEVELS = 3;

/** The config's optional inputs, computed once per config: this runs for every request. */
const OPTIONAL_INPUTS = new WeakMap<ModelConfig, ReadonlySet<string>>();
function optionalInputs(cfg: ModelConfig): ReadonlySet<string> {
  let set = OPTIONAL_INPUTS.get(cfg);
  if (!set) {
    set = new Set((cfg.input ?? []).filter((i) => i.optional).map((i) => i.name));
    OPTIONAL_INPUTS.set(cfg, set);
  }
  return set;
}

export function toJob(req: InferenceRequest, mv: ReadyVersion): Job {
  const cfg = mv.config;
  validateRequest(req, mv.metadata, cfg.max_batch_size, optionalInputs(cfg));
  if (mv.backend?.bytesAsText) assertTextBytes(req);
  const now = performance.now();
  const p = req.parameters ?? {};
  const deadlines: number[] = [];
  if (req.deadlineMs !== undefined) deadlines.push(req.deadlineMs);
  if (p.timeout !== undefined) {
    const us = Number(p.timeout);
    if (!Number.isFinite(us) || us < 0) {
      throw new InferdError(
        'invalid_request',
        `parameter 'timeout' must be a non-negative number of microseconds`,
      );
    }
    // Clamped: Triton takes any uint64, and a timer cannot wait beyond 2³¹−1 ms (core/timers.ts).
    if (us > 0) deadlines.push(now + timerDelayMs(us / 1000));
  }
  const defaultUs = cfg.dynamic_batching?.default_timeout_microseconds;
  if (defaultUs) deadlines.push(now + timerDelayMs(defaultUs / 1000));
  const levels = cfg.dynamic_batching?.priority_levels || DEFAULT_PRIORITY_LEVELS;
  const defaultLevel = cfg.dynamic_batching?.default_priority_level || Math.ceil(levels / 2);
  let priority = defaultLevel;
  if (p.priority !== undefined) {
    const n = Number(p.priority);
    if (!Number.isInteger(n) || n < 0 || n > levels) {
      throw new InferdError(
        'invalid_request',
        `parameter 'priority' must be an integer from 0 (default) to ${levels} (1 is the highest), got ${clip(p.priority)}`,
      );
    }
    if (n > 0) priority = n;
  }
  // Order inputs as the model declares them, so requests batch together whatever order clients use.
  let inputs = req.inputs;
  if (inputs.length > 1) {
    const order = mv.metadata.inputs.map((s) => s.name);
    inputs = [...inputs].sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name));
  }
  return {
    inputs,
    // An empty `outputs` list asks for no particular output: every output, as when it is absent.
    outputNames: req.outputs?.length ? req.outputs.map((o) => o.name) : undefined,
    priority,
    deadlineMs: deadlines.length > 0 ? Math.min(...deadlines) : undefined,
    signal: req.signal,
  };
}

/**
 * BYTES are bytes: where the backend holds them as text (ONNX Runtime), an element that is not
 * UTF-8 is refused naming the input and element, rather than reaching the model with U+FFFD in it.
 */
function assertTextBytes(req: InferenceRequest): void {
  for (const t of req.inputs) {
    if (!(t.data instanceof BytesData)) continue;
    const bad = t.data.firstNonUtf8();
    if (bad >= 0) {
      throw new InferdError(
        'invalid_input',
        `input '${clip(t.name)}' element ${bad} is not valid UTF-8: model '${clip(req.modelName)}' takes BYTES as text (ONNX Runtime string tensors); send UTF-8 text, or use a model whose input is UINT8`,
      );
    }
  }
}
