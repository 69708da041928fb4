/**
 * A version's optional drift_reference.json (format: core/drift-reference.ts; written by spam's
 * training, src/training/spam/drift-reference.ts, and for OCR by scripts/ocr-drift-reference.ts),
 * read at load. A missing file means no drift monitoring; an unreadable or malformed one is logged
 * and ignored, since drift is a report about the version and never a reason not to serve it.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { parseDriftReference, type DriftReferenceFile } from '../core/drift-reference.js';

const DRIFT_REFERENCE_FILE = 'drift_reference.json';
/** Reference files are a few hundred bytes; anything far larger is not one. */
const MAX_REFERENCE_BYTES = 1024 * 1024;

export async function readDriftReference(
  versionDir: string,
  logger: Logger,
  where: { model: string; version: string },
): Promise<DriftReferenceFile | undefined> {
  let text: string;
  try {
    text = await readFile(join(versionDir, DRIFT_REFERENCE_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    logger.warn(
      { ...where, err },
      `${DRIFT_REFERENCE_FILE} cannot be read; no drift metrics for this version`,
    );
    return undefined;
  }
  try {
    if (text.length > MAX_REFERENCE_BYTES) throw new Error(`larger than ${MAX_REFERENCE_BYTES} bytes`);
    return parseDriftReference(JSON.parse(text));
  } catch (err) {
    logger.warn(
      { ...where, reason: (err as Error).message },
      `${DRIFT_REFERENCE_FILE} is invalid; no drift metrics for this version`,
    );
    return undefined;
  }
}
