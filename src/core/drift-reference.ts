/**
 * The drift reference file, `drift_reference.json` in a version's folder (docs/lifecycle.md#drift-reference):
 * bin counts of a few features and of the prediction over a held-out sample, with the feature
 * definitions and bin edges inside, so the server bins live traffic the same way.
 *
 * Two schemas, both read:
 * - `inferd.drift-reference/v1`: text features only (`length`, `count`) and a numeric prediction
 *   output. Spam's files; kept readable as they are.
 * - `inferd.drift-reference/v2`: v1 plus image features read from the input's header
 *   (`image_pixels`, `image_long_side`), answer features (`output_count`) and a prediction that is
 *   a mean over an answer array (`mean_of`). A new schema name rather than new kinds under v1, so
 *   that a server which knows only v1 says "not a v1 file" instead of failing on a kind it lacks.
 */
import type { DriftFeature, PredictionSpec } from './drift-features.js';

const DRIFT_REFERENCE_V1 = 'inferd.drift-reference/v1';
export const DRIFT_REFERENCE_V2 = 'inferd.drift-reference/v2';

/** Bin counts beside the definition: counts.length === edges.length + 1. */
type Counted<T> = T & { counts: number[] };

export interface DriftReferenceFile {
  schema: typeof DRIFT_REFERENCE_V1 | typeof DRIFT_REFERENCE_V2;
  /** How the counts were made (free text, for people). */
  sample?: string;
  /** The input the input features read (signature field or tensor name). */
  input: string;
  features: Array<Counted<DriftFeature>>;
  /** The prediction output (signature field, tensor name or answer field) and its reference histogram. */
  prediction?: Counted<PredictionSpec>;
}

const V1_KINDS = new Set(['length', 'count']);
const V2_KINDS = new Set([...V1_KINDS, 'image_pixels', 'image_long_side', 'output_count']);
/** Bins are stored one byte per item in the live window (drift-window.ts). */
const MAX_EDGES = 254;

const isHistogram = (h: { edges?: unknown; counts?: unknown } | undefined): boolean =>
  !!h &&
  Array.isArray(h.edges) &&
  Array.isArray(h.counts) &&
  h.edges.length <= MAX_EDGES &&
  h.counts.length === h.edges.length + 1 &&
  h.edges.every((x, i, a) => typeof x === 'number' && Number.isFinite(x) && (i === 0 || x > a[i - 1])) &&
  h.counts.every((x) => typeof x === 'number' && Number.isFinite(x) && x >= 0);

function isFeature(f: Partial<DriftFeature> & { pattern?: unknown; output?: unknown }, v2: boolean): boolean {
  if (typeof f.name !== 'string' || f.name === 'prediction' || typeof f.kind !== 'string') return false;
  if (!(v2 ? V2_KINDS : V1_KINDS).has(f.kind)) return false;
  if (f.pattern !== undefined && typeof f.pattern !== 'string') return false;
  if (f.kind === 'output_count' && typeof f.output !== 'string') return false;
  return isHistogram(f);
}

/** Validates a parsed drift_reference.json; throws a plain Error naming what is wrong. */
export function parseDriftReference(v: unknown): DriftReferenceFile {
  const r = v as Partial<DriftReferenceFile> | null;
  const v2 = r?.schema === DRIFT_REFERENCE_V2;
  const p = r?.prediction as Partial<PredictionSpec> | undefined;
  if (
    !r ||
    (r.schema !== DRIFT_REFERENCE_V1 && !v2) ||
    typeof r.input !== 'string' ||
    !Array.isArray(r.features) ||
    !r.features.every((f) => isFeature(f, v2)) ||
    new Set(r.features.map((f) => f.name)).size !== r.features.length ||
    (p !== undefined &&
      (typeof p.output !== 'string' ||
        (p.mean_of !== undefined && (!v2 || typeof p.mean_of !== 'string')) ||
        !isHistogram(p)))
  ) {
    throw new Error(
      `not an ${DRIFT_REFERENCE_V1} or ${DRIFT_REFERENCE_V2} file with distinct features and bin counts`,
    );
  }
  return r as DriftReferenceFile;
}
