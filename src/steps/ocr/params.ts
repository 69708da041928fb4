/**
 * Shared helpers of the OCR step definitions: parameter validation (zod, config.json names) and
 * BYTES tensors of UTF-8 strings.
 */
import { z } from 'zod';
import type { Tensor } from '../../core/tensor.js';
import { InferdError } from '../../errors.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Validates a step's `parameters`; `invalid_config` names each bad field. */
export function parseParams<S extends z.ZodType>(schema: S, raw: Record<string, unknown>): z.infer<S> {
  const res = schema.safeParse(raw);
  if (!res.success) {
    const details = res.error.issues
      .map((i) => `parameters.${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('; ');
    throw new InferdError('invalid_config', details);
  }
  return res.data;
}

export const bytesTensor = (name: string, items: string[]): Tensor => ({
  name,
  datatype: 'BYTES',
  shape: [items.length],
  data: items.map((s) => enc.encode(s)),
});

export const decodeStrings = (t: Tensor): string[] => (t.data as Uint8Array[]).map((b) => dec.decode(b));

export const triple = z.tuple([z.number(), z.number(), z.number()]);
