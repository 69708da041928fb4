/**
 * Outputs' `label_filename` (Triton: a file in the model folder, one class label per line, read by
 * the classification extension): checked when the model loads, so that a missing file is a load
 * error naming the output and the file, not a failure of the first classification request.
 */
import { stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { InferdError } from '../errors.js';
import type { ModelConfig } from '../core/model-config.js';

/** A file name inside the model folder: no separators, not `.` or `..`. */
const PLAIN_NAME = /^(?!\.{1,2}$)[^/\\\0]+$/;

/** `versionDir`'s parent holds the model's own files (repository-source.ts). */
export async function checkLabelFiles(cfg: ModelConfig, versionDir: string): Promise<void> {
  for (const [i, out] of (cfg.output ?? []).entries()) {
    const file = out.label_filename;
    if (file === undefined) continue;
    const field = `output.${i}.label_filename`;
    if (!PLAIN_NAME.test(file)) {
      throw new InferdError('invalid_config', `${field}: '${file}' must be a file name in the model folder`);
    }
    let ok = false;
    try {
      ok = (await stat(join(dirname(versionDir), file))).isFile();
    } catch {
      ok = false;
    }
    if (!ok) {
      throw new InferdError(
        'invalid_config',
        `${field}: label file '${file}' of output '${out.name}' is not in the model folder`,
      );
    }
  }
}
