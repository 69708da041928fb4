/**
 * Reading and verifying a version's lineage manifest (core/lineage.ts). A version is immutable
 * once written: at load the model file's digest must match the manifest's, otherwise the version
 * is UNAVAILABLE with the reason (a version without a manifest loads as before).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LINEAGE_FILE, type Lineage } from '../core/lineage.js';
import { InferdError } from '../errors.js';

/** SHA-256 of a file, streamed (model files can be hundreds of MB). */
async function fileSha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The manifest of a version folder, or undefined when it has none. */
export async function readLineage(versionDir: string): Promise<Lineage | undefined> {
  let text: string;
  try {
    text = await readFile(join(versionDir, LINEAGE_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new InferdError('invalid_config', `${LINEAGE_FILE} cannot be read: ${(err as Error).message}`);
  }
  let parsed: Lineage;
  try {
    parsed = JSON.parse(text) as Lineage;
  } catch (err) {
    throw new InferdError('invalid_config', `${LINEAGE_FILE} is not valid JSON: ${(err as Error).message}`);
  }
  const a = parsed?.artifact;
  if (
    parsed?.schema !== 'inferd.lineage/v1' ||
    typeof a?.file !== 'string' ||
    !/^[A-Za-z0-9_.-]+$/.test(a.file) ||
    !/^[0-9a-f]{64}$/.test(a.sha256 ?? '')
  ) {
    throw new InferdError(
      'invalid_config',
      `${LINEAGE_FILE} is not an inferd.lineage/v1 manifest with artifact.file and a hex artifact.sha256`,
    );
  }
  return parsed;
}

/**
 * Refuses a version whose model file no longer matches its manifest (edited, truncated or replaced
 * after it was written). Returns the manifest for the metadata, undefined without one.
 */
export async function verifyLineage(versionDir: string): Promise<Lineage | undefined> {
  const lineage = await readLineage(versionDir);
  if (!lineage) return undefined;
  const { file, sha256 } = lineage.artifact;
  let actual: string;
  try {
    actual = await fileSha256(join(versionDir, file));
  } catch (err) {
    throw new InferdError(
      'invalid_config',
      `${LINEAGE_FILE} names ${file}, which cannot be read: ${(err as Error).message}`,
    );
  }
  if (actual !== sha256) {
    throw new InferdError(
      'invalid_config',
      `${file} has SHA-256 ${actual.slice(0, 12)}…, but ${LINEAGE_FILE} records ${sha256.slice(0, 12)}…: ` +
        'the version was modified after it was written; versions are immutable, write a new version instead',
    );
  }
  return lineage;
}
