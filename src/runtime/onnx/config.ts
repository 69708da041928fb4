/**
 * The `onnxruntime` section of config.json, owned by the ONNX Runtime backend: validated with the
 * rest of the config when the model is read (core/model-config.ts ConfigSection), read here.
 */
import { z } from 'zod';
import type { ConfigSection, ModelConfig } from '../../core/model-config.js';
import { InferdError } from '../../errors.js';
import { REWRITE_PASSES, type RewritePass } from './rewrite/passes.js';

const onnxSectionSchema = z.object({
  intra_op_num_threads: z.number().int().min(1).max(256).optional(),
  execution_provider: z.enum(['cpu', 'cuda']).default('cpu'),
  graph_optimization_level: z.enum(['disabled', 'basic', 'extended', 'all']).default('all'),
  /**
   * Scheduling priority of the inference threads against the event loop (Linux): `idle`
   * (SCHED_IDLE: inference runs on every cycle no normal thread wants), `low` (nice 10) or
   * `normal`. The event loop parses, refuses and answers requests; when it waits behind
   * inference, refusals under overload wait too.
   */
  thread_priority: z.enum(['idle', 'low', 'normal']).optional(),
  /**
   * Executions handed to one instance at once. 1 (default) keeps every waiting request in the
   * scheduler's queue, where priority, deadlines and cancellation apply until it runs; 2 hides
   * the hand-off between the event loop and the worker, but the batch handed over early can no
   * longer be canceled, expired or overtaken.
   */
  pipeline_depth: z.number().int().min(1).max(4).optional(),
  /**
   * Passes applied to the model's graph at load, in order, before ONNX Runtime sees it
   * (rewrite/passes.ts): the exact folds took 1.8× less CPU on PP-OCRv4 rec with outputs equal to
   * 2e-6; the int8 ones were slower there (bench/results/ocr-speed.md).
   */
  graph_rewrites: z
    .array(z.enum(REWRITE_PASSES as [RewritePass, ...RewritePass[]]))
    .max(REWRITE_PASSES.length)
    .optional(),
  /**
   * For the static int8 passes (`int8-qdq`, `int8-qdq-dense`): the calibrated activation ranges,
   * a JSON file `{ graph_rewrites, ranges: { tensor: [min, max] } }` relative to the model's
   * folder (scripts/ocr-calibrate.ts writes models/ocr-{det,rec}/int8-ranges.json). Its
   * `graph_rewrites` must begin `graph_rewrites` here: the tensor names are the rewritten graph's.
   */
  int8_calibration: z.string().min(1).optional(),
  /**
   * Where executions run: `worker` threads (one per instance), or `inline` on the event loop's
   * thread (one instance; only for models that run a batch in microseconds). Default: self-tuned.
   */
  execution: z.enum(['worker', 'inline']).optional(),
  /**
   * With worker execution: executions of up to this many rows run inline on the event loop while
   * none of the model's executions is in flight (low load); 0 = never. Default: self-tuned from
   * the calibration (runs of at most 200 µs; tuning.ts).
   */
  idle_inline_rows: z.number().int().min(0).max(1024).optional(),
});

export type OnnxSection = z.infer<typeof onnxSectionSchema>;

export const onnxConfigSection: ConfigSection = { key: 'onnxruntime', schema: onnxSectionSchema };

const PARSED = new WeakMap<ModelConfig, OnnxSection>();

/** The section of a config the repository validated (defaults filled in); parsed once per config. */
export function onnxSection(cfg: ModelConfig): OnnxSection {
  let section = PARSED.get(cfg);
  if (!section) {
    // Normally validated already (the repository's config sections); a config read without them
    // is refused here the same way.
    const res = onnxSectionSchema.safeParse(cfg.onnxruntime ?? {});
    if (!res.success) {
      const why = res.error.issues.map((i) => `onnxruntime.${i.path.join('.')}: ${i.message}`).join('; ');
      throw new InferdError('invalid_config', `model '${cfg.name ?? '?'}': config.json is invalid: ${why}`);
    }
    section = res.data;
    PARSED.set(cfg, section);
  }
  return section;
}
