/**
 * A model's configuration: Triton's model configuration (read from `config.pbtxt` or `config.json`,
 * repository/config-file.ts, and mapped by repository/triton-config.ts) with the same snake_case
 * field names, plus inferd's additions (aliases, labels, signature, evaluation, pipeline).
 * Validated once when the model is loaded; a bad config makes only that model UNAVAILABLE.
 * Unknown fields are refused: a misspelt field must not be silently ignored.
 */
import { z } from 'zod';
import { DATATYPES } from './tensor.js';
import { InferdError } from '../errors.js';

/** Triton spells datatypes TYPE_FP32 / TYPE_STRING in configs; the protocol spells them FP32 / BYTES. */
function normaliseDatatype(s: string): string {
  const t = s.toUpperCase().replace(/^TYPE_/, '');
  return t === 'STRING' ? 'BYTES' : t;
}

const datatype = z
  .string()
  .transform(normaliseDatatype)
  .pipe(z.enum(DATATYPES, { message: `must be one of ${DATATYPES.join(', ')}` }));

/** protobuf's JSON mapping writes 64-bit integers as strings: both forms are read. */
const int64 = z
  .union([
    z.number(),
    z
      .string()
      .regex(/^-?\d{1,15}$/)
      .transform(Number),
  ])
  .pipe(z.number().int());

const tensorConfig = z.strictObject({
  name: z.string().min(1),
  data_type: datatype,
  /** Without the batch dim when max_batch_size > 0 (Triton's rule); -1 = dynamic. */
  dims: z.array(int64.pipe(z.number().min(-1))),
  optional: z.boolean().optional(),
  /** Inputs only: FORMAT_NONE | FORMAT_NHWC | FORMAT_NCHW, reported back as given. */
  format: z.enum(['FORMAT_NONE', 'FORMAT_NHWC', 'FORMAT_NCHW']).optional(),
  /** Outputs: a file in the model's folder, one classification label per line (Triton's field). */
  label_filename: z.string().min(1).max(255).optional(),
});

/**
 * Triton's ModelWarmup message (model_config.proto), validated but kept as written (data types
 * stay `TYPE_FP32`, as the config endpoints report them). Exactly one data source per input.
 */
const warmupInput = z
  .strictObject({
    data_type: z.string().min(1).max(32),
    dims: z
      .array(
        int64.pipe(
          z
            .number()
            .int()
            .min(0)
            .max(1 << 24),
        ),
      )
      .max(16),
    zero_data: z.boolean().optional(),
    random_data: z.boolean().optional(),
    /** A file in the model's `warmup/` folder: raw row-major data of one batch row. */
    input_data_file: z
      .string()
      .min(1)
      .max(255)
      .regex(/^[^/\\]+$/, 'must be a file name in the warmup/ folder, without a path')
      .refine((f) => f !== '.' && f !== '..', 'must be a file name')
      .optional(),
  })
  .refine(
    (i) => [i.zero_data, i.random_data, i.input_data_file].filter((x) => x !== undefined).length === 1,
    'give exactly one of zero_data, random_data, input_data_file',
  );

const warmupSample = z.strictObject({
  name: z.string().min(1).max(128),
  /** 0 (protobuf's default) reads as 1. */
  batch_size: int64
    .pipe(
      z
        .number()
        .int()
        .min(0)
        .max(1 << 16),
    )
    .default(1),
  inputs: z.record(z.string().min(1).max(256), warmupInput),
  /** Runs of this sample; 0 (the default) reads as 1. */
  count: int64.pipe(z.number().int().min(0).max(1000)).default(0),
});

const versionPolicy = z.union([
  z.object({ latest: z.object({ num_versions: z.number().int().min(1) }) }),
  z.object({ all: z.object({}) }),
  z.object({ specific: z.object({ versions: z.array(z.number().int().min(0)).min(1) }) }),
]);

const dynamicBatching = z.strictObject({
  max_queue_delay_microseconds: z.number().min(0).max(10_000_000).default(0),
  preferred_batch_size: z.array(z.number().int().min(1)).default([]),
  /** Waiting requests beyond what free instances take at once; 0 = no bound (Triton's meaning). */
  max_queue_size: z.number().int().min(0).optional(),
  default_timeout_microseconds: z.number().int().min(0).optional(),
  priority_levels: z.number().int().min(0).optional(),
  default_priority_level: z.number().int().min(0).optional(),
  /** Accepted: inferd answers each request with its own response, so order never mixes up. */
  preserve_ordering: z.boolean().optional(),
});

const modelConfigSchema = z.strictObject({
  name: z.string().min(1).optional(),
  platform: z.string().optional(),
  backend: z.string().optional(),
  description: z.string().optional(),
  default_model_filename: z.string().default('model.onnx'),
  max_batch_size: z
    .number()
    .int()
    .min(0)
    .max(1 << 16)
    .default(0),
  input: z.array(tensorConfig).optional(),
  output: z.array(tensorConfig).optional(),
  version_policy: versionPolicy.default({ latest: { num_versions: 1 } }),
  dynamic_batching: dynamicBatching.optional(),
  /** Queue bound and default timeout apply even without dynamic batching. */
  instance_group: z
    .array(
      z.strictObject({
        name: z.string().optional(),
        count: z.number().int().min(1).max(64).default(1),
        kind: z.enum(['KIND_AUTO', 'KIND_CPU', 'KIND_GPU', 'KIND_MODEL', 'CPU', 'GPU', 'AUTO']).optional(),
      }),
    )
    .optional(),
  /** Triton's warm-up samples, run at load before the version is READY (repository/warmup.ts). */
  model_warmup: z.array(warmupSample).max(64).optional(),
  /** Triton's response cache, opt-in per model (service/response-cache.ts). */
  response_cache: z.strictObject({ enable: z.boolean().default(false) }).optional(),
  /** Owned and validated by the ONNX Runtime backend (runtime/onnx/config.ts, a ConfigSection). */
  onnxruntime: z.unknown().optional(),
  /** Alias name → version folder, e.g. {"production": "1"}. */
  aliases: z.record(z.string(), z.union([z.string(), z.number()]).transform(String)).default({}),
  /** Classification labels for outputs without a `label_filename` (repository/labels.ts). */
  labels: z.array(z.string()).optional(),
  parameters: z.record(z.string(), z.unknown()).optional(),
  /** Sections owned by other parts of the server, which validate them (ConfigSection). */
  signature: z.unknown().optional(),
  evaluation: z.unknown().optional(),
  pipeline: z.unknown().optional(),
});

/**
 * A top-level section of config.json owned by one part of the server (a backend, the /v1 API):
 * the composition root hands the sections to the repository, which validates each one with the
 * rest of the config when the model is read, so a bad section fails that model's load with the
 * same `invalid_config` message as any other field. The owner reads its section with its schema.
 */
export interface ConfigSection {
  readonly key: string;
  readonly schema: z.ZodType;
}

/** The config schema with these sections validated, built once per list of sections. */
const EXTENDED = new WeakMap<readonly ConfigSection[], z.ZodType<ModelConfig>>();
function schemaWith(sections: readonly ConfigSection[]): z.ZodType<ModelConfig> {
  if (sections.length === 0) return modelConfigSchema;
  let schema = EXTENDED.get(sections);
  if (!schema) {
    schema = modelConfigSchema.extend(
      Object.fromEntries(sections.map((s) => [s.key, s.schema.optional()])),
    ) as unknown as z.ZodType<ModelConfig>;
    EXTENDED.set(sections, schema);
  }
  return schema;
}

export type ModelConfig = z.infer<typeof modelConfigSchema>;

/** Where a config was read from, so that errors name the file and the line of a field. */
export interface ConfigOrigin {
  file: string;
  /** Field path (`input.0.dims`) → line; config.pbtxt only. */
  lines?: ReadonlyMap<string, number>;
}

/** `line 7: input.0.dims` when the line of the field (or of its nearest parent) is known. */
export function fieldAt(origin: ConfigOrigin | undefined, path: ReadonlyArray<PropertyKey>): string {
  const field = path.map(String).join('.') || '(root)';
  for (let n = path.length; n > 0 && origin?.lines; n -= 1) {
    const line = origin.lines.get(path.slice(0, n).map(String).join('.'));
    if (line !== undefined) return `line ${line}: ${field}`;
  }
  return field;
}

/** Configs whose file did not set max_batch_size (Triton's auto-complete may fill it). */
const MAX_BATCH_UNSET = new WeakSet<ModelConfig>();

export function maxBatchSizeGiven(cfg: ModelConfig): boolean {
  return !MAX_BATCH_UNSET.has(cfg);
}
export type TensorConfig = z.infer<typeof tensorConfig>;
export type WarmupSample = z.infer<typeof warmupSample>;

/** Validates raw JSON; throws `invalid_config` naming every bad field. */
export function parseModelConfig(
  raw: unknown,
  modelName: string,
  sections: readonly ConfigSection[] = [],
  origin: ConfigOrigin = { file: 'config.json' },
): ModelConfig {
  const res = schemaWith(sections).safeParse(raw ?? {});
  if (!res.success) {
    const details = res.error.issues.map((i) => `${fieldAt(origin, i.path)}: ${issueText(i)}`).join('; ');
    throw new InferdError('invalid_config', `model '${modelName}': ${origin.file} is invalid: ${details}`);
  }
  const cfg = res.data;
  if (cfg.name !== undefined && cfg.name !== '' && cfg.name !== modelName) {
    throw new InferdError(
      'invalid_config',
      `model '${modelName}': ${origin.file} ${fieldAt(origin, ['name'])}: name '${cfg.name}' differs from its folder name '${modelName}'`,
    );
  }
  const out = { ...cfg, name: modelName };
  const given = typeof raw === 'object' && raw !== null && 'max_batch_size' in raw;
  if (!given) MAX_BATCH_UNSET.add(out);
  return out;
}

function issueText(i: z.core.$ZodIssue): string {
  if (i.code === 'unrecognized_keys') return `unknown field(s) ${i.keys.map((k) => `'${k}'`).join(', ')}`;
  return i.message;
}

export function backendName(cfg: ModelConfig): string {
  if (cfg.backend) return cfg.backend;
  if (cfg.platform === undefined || cfg.platform === 'onnxruntime_onnx') return 'onnxruntime';
  return cfg.platform;
}
