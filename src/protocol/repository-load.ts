/**
 * The parameters of the repository API's load (Triton's model repository extension) → a load
 * override: `config` (a model config as a JSON string) and `file:<path>` (a model file: base64 in
 * a string over REST, bytes over gRPC's `bytes_param`). Other parameters are refused by name so a
 * misspelt one does not silently load the repository's files instead.
 */
import { InferdError } from '../errors.js';
import { clip } from '../core/clip.js';
import type { LoadOverride } from '../service/inference-service.js';
import { base64Size } from './base64.js';

/** Longest override config (a Triton config is a few KB). */
const MAX_CONFIG_CHARS = 1024 * 1024;

/**
 * One parameter's value as the transport gave it: REST JSON values, or gRPC's
 * ModelRepositoryParameter ({string_param} | {bytes_param} | …, one set).
 */
function stringOf(key: string, v: unknown): string {
  if (typeof v === 'string') return v;
  if (
    typeof v === 'object' &&
    v !== null &&
    typeof (v as { string_param?: unknown }).string_param === 'string'
  ) {
    return (v as { string_param: string }).string_param;
  }
  throw new InferdError('invalid_request', `parameter '${clip(key)}' must be a string`);
}

function bytesOf(key: string, v: unknown): Uint8Array {
  if (typeof v === 'object' && v !== null && 'bytes_param' in v) {
    const b = (v as { bytes_param: unknown }).bytes_param;
    if (b instanceof Uint8Array) return b;
  }
  const text = stringOf(key, v);
  if (base64Size(text) < 0) {
    throw new InferdError('invalid_request', `parameter '${clip(key)}' must be the file's content in base64`);
  }
  return Buffer.from(text, 'base64');
}

/** undefined when the request carries no override (a plain load from the repository). */
export function loadOverrideFrom(params: unknown): LoadOverride | undefined {
  if (params === undefined || params === null) return undefined;
  if (typeof params !== 'object' || Array.isArray(params)) {
    throw new InferdError('invalid_request', "'parameters' must be an object");
  }
  const override: LoadOverride = {};
  const files = new Map<string, Uint8Array>();
  for (const [key, value] of Object.entries(params)) {
    if (key === 'config') {
      const text = stringOf(key, value);
      if (text.length > MAX_CONFIG_CHARS) {
        throw new InferdError('invalid_request', `parameter 'config' is over ${MAX_CONFIG_CHARS} characters`);
      }
      override.config = text;
    } else if (key.startsWith('file:')) {
      files.set(key.slice('file:'.length), bytesOf(key, value));
    } else {
      throw new InferdError(
        'invalid_request',
        `unknown load parameter '${clip(key)}'; known: config, file:<version>/<file name>`,
      );
    }
  }
  if (files.size > 0) override.files = files;
  return override.config === undefined && files.size === 0 ? undefined : override;
}
