/**
 * The drift reference written beside each spam version (`drift_reference.json`): bin counts of a
 * few input features and of the predicted probability over the held-out test split, which is
 * drawn from the same distribution as the training data. The file is self-describing (feature
 * definitions and bins included), so the server bins live traffic the same way (core/drift.ts).
 */
import { histogram, histogramOf, type TextFeature } from '../../core/drift.js';

export const DRIFT_REFERENCE_FILE = 'drift_reference.json';

/** Text length in characters and URL count: the two inputs that separate the corpus's eras most. */
const FEATURES: readonly TextFeature[] = [
  { name: 'text_length', kind: 'length', edges: [50, 200, 500, 1000, 2000, 5000, 10000, 20000] },
  { name: 'url_count', kind: 'count', pattern: 'https?://|www\\.', edges: [0, 1, 2, 5, 10, 20] },
];
const PROBABILITY_EDGES = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];

export interface DriftReference {
  schema: 'inferd.drift-reference/v1';
  /** What the counts were taken over. */
  sample: string;
  input: string;
  features: Array<TextFeature & { counts: number[] }>;
  prediction: { output: string; edges: number[]; counts: number[] };
}

export function spamDriftReference(texts: readonly string[], probability: ArrayLike<number>): DriftReference {
  return {
    schema: 'inferd.drift-reference/v1',
    sample: `held-out test split, ${texts.length} messages`,
    input: 'text',
    features: FEATURES.map((f) => ({ ...f, counts: histogram(f, texts) })),
    prediction: {
      output: 'probability',
      edges: PROBABILITY_EDGES,
      counts: histogramOf(Array.from(probability), PROBABILITY_EDGES),
    },
  };
}
