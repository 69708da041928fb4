/**
 * Reads a model repository folder in Triton's layout (docs/configuration.md):
 *   <root>/<model>/config.json   (optional for ONNX models)
 *   <root>/<model>/<integer version>/model.onnx
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { InferdError } from '../errors.js';
import { parseModelConfig, type ConfigSection, type ModelConfig } from '../core/model-config.js';

/** A model name as a folder name may be: no separators, not hidden, no `..`. */
export function isModelName(name: string): boolean {
  return /^[A-Za-z0-9_.-]+$/.test(name) && !name.startsWith('.');
}

/** Model names are folder names; hidden folders are skipped. */
export async function listModelNames(root: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(root, { withFileTypes: true });
  } catch (err) {
    throw new InferdError(
      'invalid_config',
      `model repository '${root}' cannot be read: ${(err as Error).message}`,
    );
  }
  return entries
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort();
}

export async function modelExists(root: string, name: string): Promise<boolean> {
  if (!isModelName(name)) return false;
  try {
    return (await stat(join(root, name))).isDirectory();
  } catch {
    return false;
  }
}

/**
 * `checkName`: config.json's `name`, when given, must equal the folder's (Triton's rule). Off where
 * the served name comes from elsewhere (KServe's InferenceService name, src/repository/source/local.ts).
 */
export interface ConfigReadOptions {
  checkName?: boolean;
}

/** Reads and validates `config.json`, with the sections other parts of the server own. */
export async function readModelConfig(
  modelDir: string,
  name: string,
  sections: readonly ConfigSection[] = [],
  options: ConfigReadOptions = {},
): Promise<ModelConfig> {
  let text: string | undefined;
  try {
    text = await readFile(join(modelDir, 'config.json'), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new InferdError(
        'invalid_config',
        `model '${name}': config.json cannot be read: ${(err as Error).message}`,
      );
    }
  }
  return parseConfigText(text, name, sections, options);
}

/** config.json's text (undefined: the model has none) → its config, errors naming the model. */
export function parseConfigText(
  text: string | undefined,
  name: string,
  sections: readonly ConfigSection[] = [],
  { checkName = true }: ConfigReadOptions = {},
): ModelConfig {
  let raw: unknown = {};
  if (text !== undefined) {
    try {
      raw = JSON.parse(text);
    } catch (err) {
      throw new InferdError(
        'invalid_config',
        `model '${name}': config.json is not valid JSON: ${(err as Error).message}`,
      );
    }
  }
  if (!checkName && typeof raw === 'object' && raw !== null && !Array.isArray(raw)) {
    raw = { ...raw, name: undefined };
  }
  return parseModelConfig(raw, name, sections);
}

/** Integer-named version folders, ascending. */
export async function listVersions(modelDir: string): Promise<number[]> {
  const entries = await readdir(modelDir, { withFileTypes: true });
  return entries
    .filter((e) => e.isDirectory() && /^\d+$/.test(e.name))
    .map((e) => Number(e.name))
    .sort((a, b) => a - b);
}

/** Applies `version_policy` (latest N | all | specific) to the versions on disk. */
export function selectVersions(cfg: ModelConfig, available: number[], name: string): number[] {
  const p = cfg.version_policy;
  if ('all' in p) return available;
  if ('latest' in p) return available.slice(-p.latest.num_versions);
  const missing = p.specific.versions.filter((v) => !available.includes(v));
  if (missing.length > 0) {
    throw new InferdError(
      'invalid_config',
      `model '${name}': version_policy asks for version(s) ${missing.join(', ')} but the folder has ${available.join(', ') || 'none'}`,
    );
  }
  return [...p.specific.versions].sort((a, b) => a - b);
}
