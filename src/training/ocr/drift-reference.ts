/**
 * The OCR model's drift reference (`drift_reference.json`, schema v2, core/drift-reference.ts):
 * bin counts over a held-out set of pages and the answers the served model gave them, built by
 * scripts/ocr-drift-reference.ts. PP-OCRv4 was trained by PaddleOCR on data we do not have, so the
 * reference is the traffic inferd's OCR was validated on, not the model's training set.
 *
 * Features, and why these:
 * - `image_pixels` and `image_long_side`, from the header: the detector scales each page so that
 *   its longer side is at most 960 px (`det_pre`), so the longer side decides how small the text
 *   gets before detection; the pixel count adds the page's shape (a receipt strip vs a page).
 * - `line_count`, the answer's `lines`: how dense the pages are (labels vs full pages) and, when it
 *   falls to 0 for many pages, that the detector no longer finds text (blank scans, photos).
 * - prediction: the page's mean line confidence (`lines[].confidence`), the recogniser's own score.
 *   It falls when the text moves away from what the model reads well (fonts, scripts, blur, low
 *   resolution), which is the drift that costs accuracy; a page with no lines has no mean and is
 *   counted only by `line_count`. Lines under the pipeline's drop_score (0.5) are not in the
 *   answer, so the mean lies in [0.5, 1].
 */
import { histogramOf } from '../../core/drift.js';
import {
  itemValue,
  predictionValue,
  type Answer,
  type DriftFeature,
  type PredictionSpec,
} from '../../core/drift-features.js';
import { DRIFT_REFERENCE_V2, type DriftReferenceFile } from '../../core/drift-reference.js';

const FEATURES: readonly DriftFeature[] = [
  {
    name: 'image_pixels',
    kind: 'image_pixels',
    edges: [100_000, 250_000, 500_000, 1_000_000, 2_000_000, 4_000_000, 8_000_000],
  },
  { name: 'image_long_side', kind: 'image_long_side', edges: [500, 750, 1000, 1500, 2000, 3000, 4000] },
  { name: 'line_count', kind: 'output_count', output: 'lines', edges: [0, 1, 2, 4, 8, 16, 32] },
];
export const OCR_PREDICTION: PredictionSpec = {
  output: 'lines',
  mean_of: 'confidence',
  edges: [0.8, 0.9, 0.95, 0.97, 0.98, 0.985, 0.99, 0.995],
};

/** One held-out page: its encoded bytes and the /v1 answer (`text`, `lines`) the model gave. */
export interface OcrSample {
  image: Uint8Array;
  answer: Answer;
}

const defined = (xs: Array<number | undefined>): number[] => xs.filter((x): x is number => x !== undefined);

export function ocrDriftReference(samples: readonly OcrSample[], sample: string): DriftReferenceFile {
  return {
    schema: DRIFT_REFERENCE_V2,
    sample,
    input: 'image',
    features: FEATURES.map((f) => ({
      ...f,
      counts: histogramOf(defined(samples.map((s) => itemValue(f, s.image, s.answer))), f.edges),
    })),
    prediction: {
      ...OCR_PREDICTION,
      counts: histogramOf(
        defined(samples.map((s) => predictionValue(OCR_PREDICTION, s.answer))),
        OCR_PREDICTION.edges,
      ),
    },
  };
}
