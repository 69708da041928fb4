/**
 * A version's lineage manifest, `<model>/<version>/lineage.json`, written by training: where the
 * model file came from (data, code, parameters), how it scored, and its SHA-256. A version is
 * immutable once written: at load the model file's digest must match the manifest's, otherwise
 * the version is UNAVAILABLE with the reason (a version without a manifest loads as before).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InferdError } from '../errors.js';

export const LINEAGE_FILE = 'lineage.json';

/** The manifest (snake_case keys: read by tools outside TypeScript too). */
export interface Lineage {
  schema: 'inferd.lineage/v1';
  model: string;
  version: string;
  created_at: string;
  /** The served file: name within the version folder, SHA-256 (hex) and size. */
  artifact: { file: string; sha256: string; bytes: number };
  data: {
    source: string;
    /** SHA-256 over every training-corpus item (key, label and content digest), in corpus order. */
    sha256: string;
    rows: Record<string, number>;
    /** SHA-256 of the held-out test split's keys: versions with equal digests share the split. */
    test_split_sha256: string;
    /** Customer corrections added to the training data, when any. */
    feedback?: { rows: number; sha256: string };
  };
  code: { inferd: string; revision: string | null };
  parameters: Record<string, unknown>;
  metrics: Record<string, unknown>;
  baselines: Record<string, unknown>;
  /** The version this one was compared against when it was written (the production alias then). */
  compared_against: { ref: string; version: string } | null;
}

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
