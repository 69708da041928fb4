/**
 * A version's lineage manifest, `<model>/<version>/lineage.json`: where the model file came from
 * (data, code, parameters), how it scored, and its SHA-256. Written by training, verified by the
 * repository at load (repository/lineage.ts), shown by `inferd models` and the REST metadata.
 */

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
