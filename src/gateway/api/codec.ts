/**
 * Pre- and post-processing of the task endpoints: typed JSON (or multipart parts) → input tensors by
 * a model's signature, and output tensors → typed JSON. Every refusal is a catalogue error naming the
 * field, so clients can fix their request from the message alone.
 */
import { clip } from '../../core/clip.js';
import { BytesData, type Tensor, type TensorData } from '../../core/tensor.js';
import { InferdError } from '../../errors.js';
import type { TensorSpec } from '../../core/model.js';
import type { Signature, SignatureInput } from './signature.js';

type JsonValue = string | number | boolean | null | JsonValue[] | { [k: string]: JsonValue };
export type JsonObject = { [k: string]: JsonValue };

export interface DecodedRequest {
  inputs: Tensor[];
  /** Items in the batch; undefined = a single item (the answer is one object). */
  batch?: number;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function bad(field: string, why: string): InferdError {
  return new InferdError('invalid_input', `field '${field}': ${why}`);
}

function item(spec: SignatureInput, field: string, v: unknown): Uint8Array | string | number {
  switch (spec.type) {
    case 'string':
      if (typeof v !== 'string') throw bad(field, `must be a string, got ${typeof v}`);
      if (spec.max_length !== undefined && v.length > spec.max_length) {
        throw bad(field, `is ${v.length} characters long; the limit is ${spec.max_length}`);
      }
      return v;
    case 'number':
    case 'integer':
      if (typeof v !== 'number' || !Number.isFinite(v)) throw bad(field, 'must be a finite number');
      if (spec.type === 'integer' && !Number.isInteger(v)) throw bad(field, 'must be an integer');
      return v;
    case 'image':
      if (v instanceof Uint8Array) return v;
      if (typeof v !== 'string') throw bad(field, 'must be base64-encoded image bytes');
      if (!BASE64.test(v.replace(/\s+/g, ''))) throw bad(field, 'is not valid base64');
      if (v.length === 0) throw bad(field, 'is empty');
      return Buffer.from(v, 'base64');
  }
}

/** Shape for `n` items: the model's own dims after the batch dim, dynamic ones as 1. */
function shapeFor(n: number, spec: TensorSpec | undefined): number[] {
  const rest = (spec?.shape ?? [-1]).slice(1).map((d) => (d < 0 ? 1 : d));
  return [n, ...rest];
}

function tensorOf(
  spec: SignatureInput,
  values: Array<Uint8Array | string | number>,
  meta?: TensorSpec,
): Tensor {
  const shape = shapeFor(values.length, meta);
  let data: TensorData;
  let datatype: Tensor['datatype'];
  if (spec.type === 'string') {
    datatype = 'BYTES';
    data = BytesData.fromStrings(values as string[]);
  } else if (spec.type === 'image') {
    datatype = 'BYTES';
    data = BytesData.fromArrays(values as Uint8Array[]);
  } else if (spec.type === 'integer') {
    datatype = 'INT64';
    data = BigInt64Array.from(values as number[], (x) => BigInt(x));
  } else {
    datatype = 'FP32';
    data = Float32Array.from(values as number[]);
  }
  return { name: spec.tensor, datatype, shape, data };
}

/**
 * `body` is the parsed JSON object, or the multipart fields with files as Uint8Array.
 * `metaInputs` are the model's tensor specs (for the dims after the batch dim).
 */
export function decodeInputs(
  sig: Signature,
  body: Record<string, unknown>,
  metaInputs: readonly TensorSpec[],
  maxBatch = 256,
): DecodedRequest {
  const known = new Set<string>();
  for (const s of sig.inputs) {
    known.add(s.field);
    if (s.type === 'image') known.add(`${s.field}_base64`);
    if (s.batch_field) known.add(s.batch_field);
  }
  const unknown = Object.keys(body).filter((k) => !known.has(k));
  if (unknown.length > 0) {
    throw new InferdError(
      'invalid_request',
      `unknown field(s) ${clip(unknown.join(', '))}; expected ${[...known].join(', ')}`,
    );
  }
  const meta = (s: SignatureInput) => metaInputs.find((m) => m.name === s.tensor);
  const first = sig.inputs[0]!;
  if (first.batch_field && body[first.batch_field] !== undefined) {
    if (body[first.field] !== undefined) {
      throw new InferdError(
        'invalid_request',
        `send either '${first.field}' or '${first.batch_field}', not both`,
      );
    }
    const list = body[first.batch_field];
    if (!Array.isArray(list) || list.length === 0) throw bad(first.batch_field, 'must be a non-empty list');
    if (list.length > maxBatch)
      throw bad(first.batch_field, `holds ${list.length} items; the limit is ${maxBatch}`);
    const values = list.map((v, i) => item(first, `${first.batch_field}[${i}]`, v));
    return { inputs: [tensorOf(first, values, meta(first))], batch: values.length };
  }
  const inputs = sig.inputs.map((s) => {
    let v = body[s.field];
    if (s.type === 'image' && v === undefined) v = body[`${s.field}_base64`];
    if (v === undefined) {
      const alt =
        s.type === 'image' ? ` (or '${s.field}_base64')` : s.batch_field ? ` (or '${s.batch_field}')` : '';
      throw new InferdError('missing_input', `field '${s.field}'${alt} is required`);
    }
    return tensorOf(s, [item(s, s.field, v)], meta(s));
  });
  return { inputs };
}

/** One element: BYTES as UTF-8 text (invalid sequences become U+FFFD), numbers as numbers. */
function element(data: TensorData, i: number): string | number {
  if (data instanceof BytesData) return data.text(i);
  const x = data[i];
  return typeof x === 'bigint' ? Number(x) : (x as number);
}

/** Output tensors → one JSON object per item. */
export function encodeOutputs(sig: Signature, outputs: Tensor[], items: number): JsonObject[] {
  const results: JsonObject[] = Array.from({ length: items }, () => ({}));
  for (const o of sig.outputs) {
    const t = outputs.find((x) => x.name === o.tensor);
    if (!t)
      throw new InferdError(
        'backend_error',
        `the model returned no output '${o.tensor}' (signature field '${o.field}')`,
      );
    const per = Math.max(1, Math.floor(t.data.length / items));
    for (let i = 0; i < items; i++) {
      const vals = Array.from({ length: per }, (_, j) => element(t.data, i * per + j));
      const conv = vals.map((v): JsonValue => {
        if (o.type === 'number' || o.type === 'integer') return typeof v === 'number' ? v : Number(v);
        const s = String(v);
        if (o.type === 'string') return s;
        try {
          return JSON.parse(s) as JsonValue;
        } catch {
          throw new InferdError('backend_error', `output '${o.tensor}' is not valid JSON`);
        }
      });
      const value = per === 1 ? conv[0]! : conv;
      if (o.spread && value !== null && typeof value === 'object' && !Array.isArray(value)) {
        Object.assign(results[i]!, value);
      } else results[i]![o.field] = value;
    }
  }
  return results;
}
