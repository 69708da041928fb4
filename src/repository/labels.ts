/**
 * Classification labels of a model's outputs (Triton's `label_filename` on an output: a file in
 * the model's folder, one label per line, line i naming class index i). Read once per version load;
 * a missing or oversized file fails the load with `invalid_config` naming the output and file.
 * Outputs without a label file take the model's `labels` list when it has one (inferd's config.json).
 */
import { readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { ModelConfig } from '../core/model-config.js';
import { InferdError } from '../errors.js';

/** 16 MiB holds a million labels of 16 bytes: Triton's classification bound is a million elements. */
const MAX_LABEL_FILE_BYTES = 16 * 1024 * 1024;

/** Labels per output name, from the model's files beside `versionDir`; undefined = none. */
export async function readOutputLabels(
  modelName: string,
  versionDir: string,
  cfg: ModelConfig,
): Promise<ReadonlyMap<string, readonly string[]> | undefined> {
  const out = new Map<string, readonly string[]>();
  for (const [i, o] of (cfg.output ?? []).entries()) {
    const file = o.label_filename;
    const field = `output.${i}.label_filename`;
    if (file === undefined) continue;
    // A file of the model's own folder: no path, so a config cannot read elsewhere.
    if (basename(file) !== file || file === '..' || file === '.') {
      throw new InferdError(
        'invalid_config',
        `model '${modelName}': ${field}: '${file}' of output '${o.name}' must be a file name in the model's folder`,
      );
    }
    const path = join(versionDir, '..', file);
    const size = await stat(path).then(
      (s) => s.size,
      () => undefined,
    );
    if (size === undefined) {
      throw new InferdError(
        'invalid_config',
        `model '${modelName}': ${field}: label file '${file}' of output '${o.name}' is not in the model's folder`,
      );
    }
    if (size > MAX_LABEL_FILE_BYTES) {
      throw new InferdError(
        'invalid_config',
        `model '${modelName}': ${field}: label file '${file}' of output '${o.name}' is ${size} bytes, over ${MAX_LABEL_FILE_BYTES}`,
      );
    }
    const lines = (await readFile(path, 'utf8')).split(/\r?\n/);
    if (lines.at(-1) === '') lines.pop();
    out.set(o.name, lines);
  }
  if (cfg.labels) {
    for (const o of cfg.output ?? []) if (!out.has(o.name)) out.set(o.name, cfg.labels);
  }
  return out.size > 0 || cfg.labels ? out : undefined;
}
