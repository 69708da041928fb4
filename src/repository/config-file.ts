/**
 * A model's configuration file: `config.pbtxt` (Triton's protobuf text format, decoded against
 * Triton's own model_config.proto) or `config.json` (the same fields in JSON). Either is mapped
 * from Triton's fields (triton-config.ts) and validated (core/model-config.ts); an error names the
 * model, the file, and for config.pbtxt the line of the field.
 */
import { InferdError } from '../errors.js';
import {
  parseModelConfig,
  type ConfigOrigin,
  type ConfigSection,
  type ModelConfig,
} from '../core/model-config.js';
import { decodeTextFormat } from './pbtxt/decode.js';
import { TextFormatError } from './pbtxt/tokens.js';
import { tritonModelConfigType } from './pbtxt/triton-schema.js';
import { fromTriton } from './triton-config.js';
import { hasGpu } from './gpu.js';

export const CONFIG_FILES = ['config.pbtxt', 'config.json'] as const;
export type ConfigFileName = (typeof CONFIG_FILES)[number];

/** A config file is read into memory: bounded like any other input (Triton configs are a few KB). */
export const MAX_CONFIG_BYTES = 1024 * 1024;

export interface ConfigFile {
  name: ConfigFileName;
  text: string;
  /** How errors name it when it is not a file (the repository API's `config` parameter). */
  label?: string;
}

/** The one config file among those present; both at once is ambiguous and refused. */
export function pickConfigFile(
  model: string,
  present: readonly ConfigFileName[],
): ConfigFileName | undefined {
  if (present.includes('config.pbtxt') && present.includes('config.json')) {
    throw new InferdError(
      'invalid_config',
      `model '${model}' has both config.pbtxt and config.json; keep one of them`,
    );
  }
  return present[0];
}

/**
 * `checkName`: the config's `name`, when given, must equal the folder's (Triton's rule). Off where
 * the served name comes from elsewhere (KServe's InferenceService name, src/repository/source/local.ts).
 */
export interface ConfigReadOptions {
  checkName?: boolean;
}

/** The file's text (undefined: the model has none, auto-complete fills it) → its validated config. */
export function parseConfigFile(
  file: ConfigFile | undefined,
  model: string,
  sections: readonly ConfigSection[] = [],
  { checkName = true }: ConfigReadOptions = {},
): ModelConfig {
  if (!file) return parseModelConfig({}, model, sections);
  const origin: ConfigOrigin = { file: file.label ?? file.name };
  let raw: unknown;
  if (file.name === 'config.pbtxt') {
    try {
      const decoded = decodeTextFormat(file.text, tritonModelConfigType());
      raw = decoded.value;
      origin.lines = decoded.lines;
    } catch (err) {
      if (!(err instanceof TextFormatError)) throw err;
      const field = err.path ? `${err.path}: ` : '';
      throw new InferdError(
        'invalid_config',
        `model '${model}': config.pbtxt line ${err.line}: ${field}${err.message}`,
      );
    }
  } else {
    try {
      raw = JSON.parse(file.text);
    } catch (err) {
      throw new InferdError(
        'invalid_config',
        `model '${model}': config.json is not valid JSON: ${(err as Error).message}`,
      );
    }
  }
  let mapped = fromTriton(raw, { model, origin, gpu: hasGpu() });
  if (!checkName && typeof mapped === 'object' && mapped !== null && !Array.isArray(mapped)) {
    mapped = { ...mapped, name: undefined };
  }
  return parseModelConfig(mapped, model, sections, origin);
}
