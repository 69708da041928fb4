/**
 * A model's `signature` (config.json): how typed JSON fields map to input tensors and output tensors
 * back to typed JSON fields, for the task endpoints (/v1/models/{name}/predict) and their OpenAPI
 * schemas. Field types and their tensors:
 *   string → BYTES (UTF-8), one element per item; number → FP32; integer → INT64;
 *   image  → BYTES (encoded image), sent as `<field>_base64` in JSON or as a multipart file part;
 *   json   (outputs only) → a BYTES element holding JSON, parsed; `spread` merges its keys into the result.
 * `batch_field` (one input only) accepts a list under that name and answers `{"results": [...]}`.
 */
import { z } from 'zod';
import { InferdError } from '../../errors.js';
import type { ConfigSection } from '../../core/model-config.js';

const fieldName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/);

const signatureInputSchema = z.object({
  field: fieldName,
  type: z.enum(['string', 'number', 'integer', 'image']),
  tensor: z.string().min(1),
  description: z.string().optional(),
  batch_field: fieldName.optional(),
  /** Longest string in characters (string fields). */
  max_length: z.number().int().min(1).optional(),
  example: z.union([z.string(), z.number()]).optional(),
});

const signatureOutputSchema = z.object({
  field: fieldName,
  type: z.enum(['string', 'number', 'integer', 'json']),
  tensor: z.string().min(1),
  description: z.string().optional(),
  spread: z.boolean().optional(),
  /** JSON Schema of a `json` field (documentation only). */
  schema: z.record(z.string(), z.unknown()).optional(),
});

const signatureSchema = z
  .object({
    task: z.string().min(1),
    summary: z.string().optional(),
    inputs: z.array(signatureInputSchema).min(1),
    outputs: z.array(signatureOutputSchema).min(1),
  })
  .refine((s) => s.inputs.filter((i) => i.batch_field).length <= (s.inputs.length === 1 ? 1 : 0), {
    message: 'batch_field is allowed only on a signature with exactly one input',
  });

export type Signature = z.infer<typeof signatureSchema>;
export type SignatureInput = z.infer<typeof signatureInputSchema>;
export type SignatureOutput = z.infer<typeof signatureOutputSchema>;

/**
 * `signature` as a config section: validated with the rest of config.json when the model is read,
 * so a bad signature fails the model's load instead of its first /v1 request.
 */
export const signatureConfigSection: ConfigSection = { key: 'signature', schema: signatureSchema };

const cache = new WeakMap<object, Signature>();

/** Validates `config.signature` (cached per config object); throws when the model declares none. */
export function signatureOf(model: string, raw: unknown): Signature {
  if (raw === undefined || raw === null) {
    throw new InferdError(
      'unsupported',
      `model '${model}' declares no signature in its config.json, so it has no task endpoint; use /v2/models/${model}/infer`,
    );
  }
  if (typeof raw === 'object') {
    const hit = cache.get(raw);
    if (hit) return hit;
  }
  const res = signatureSchema.safeParse(raw);
  if (!res.success) {
    const why = res.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new InferdError('invalid_config', `model '${model}': config.json signature is invalid: ${why}`);
  }
  if (typeof raw === 'object') cache.set(raw, res.data);
  return res.data;
}

/** Like signatureOf but answers undefined for models without a (valid) signature. */
export function trySignature(model: string, raw: unknown): Signature | undefined {
  try {
    return signatureOf(model, raw);
  } catch {
    return undefined;
  }
}
