/**
 * Reads a model repository folder in Triton's layout (docs/configuration.md):
 *   <root>/<model>/config.pbtxt or config.json   (optional for ONNX models: auto-complete)
 *   <root>/<model>/<integer version>/model.onnx
 */
import type { Dirent } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { InferdError } from '../errors.js';
import type { ConfigSection, ModelConfig } from '../core/model-config.js';
import {
  CONFIG_FILES,
  MAX_CONFIG_BYTES,
  parseConfigFile,
  pickConfigFile,
  type ConfigFileName,
  type ConfigReadOptions,
} from './config-file.js';

/** A model name as a folder name may be: no separators, not hidden, no `..`. */
export function isModelName(name: string): boolean {
  return /^[A-Za-z0-9_.-]+$/.test(name) && !name.startsWith('.');
}

/**
 * Whether a directory entry is a folder, following symlinks: repositories are often assembled from
 * links (Kubernetes volumes, a version folder linked to a build's output), as Triton reads them.
 */
export async function isFolder(dir: string, e: Dirent): Promise<boolean> {
  if (e.isDirectory()) return true;
  if (!e.isSymbolicLink()) return false;
  try {
    return (await stat(join(dir, e.name))).isDirectory();
  } catch {
    return false; // a dangling link is not a folder
  }
}

async function folders(dir: string, entries: Dirent[]): Promise<Dirent[]> {
  const flags = await Promise.all(entries.map((e) => isFolder(dir, e)));
  return entries.filter((_, i) => flags[i]);
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
  return (await folders(root, entries))
    .filter((e) => !e.name.startsWith('.'))
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

/** Reads and validates config.pbtxt or config.json, with the sections other parts of the server own. */
export async function readModelConfig(
  modelDir: string,
  name: string,
  sections: readonly ConfigSection[] = [],
  options: ConfigReadOptions = {},
): Promise<ModelConfig> {
  const present: ConfigFileName[] = [];
  for (const file of CONFIG_FILES) {
    try {
      const st = await stat(join(modelDir, file));
      if (st.size > MAX_CONFIG_BYTES) {
        throw new InferdError(
          'invalid_config',
          `model '${name}': ${file} is ${st.size} bytes; a config file may have at most ${MAX_CONFIG_BYTES}`,
        );
      }
      present.push(file);
    } catch (err) {
      if (err instanceof InferdError) throw err;
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new InferdError(
          'invalid_config',
          `model '${name}': ${file} cannot be read: ${(err as Error).message}`,
        );
      }
    }
  }
  const file = pickConfigFile(name, present);
  if (!file) return parseConfigFile(undefined, name, sections, options);
  let text: string;
  try {
    text = await readFile(join(modelDir, file), 'utf8');
  } catch (err) {
    throw new InferdError(
      'invalid_config',
      `model '${name}': ${file} cannot be read: ${(err as Error).message}`,
    );
  }
  return parseConfigFile({ name: file, text }, name, sections, options);
}

/** Integer-named version folders, ascending. */
export async function listVersions(modelDir: string): Promise<number[]> {
  const entries = await readdir(modelDir, { withFileTypes: true });
  return (await folders(modelDir, entries))
    .filter((e) => /^\d+$/.test(e.name))
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
