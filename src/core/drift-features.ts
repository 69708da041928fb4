/**
 * What drift measures on one answered item (docs/lifecycle.md#live-drift), beside the text features
 * of core/drift.ts: the size of an image input read from its header (core/image-header.ts), the
 * number of elements of an array in the answer (an OCR page's text lines), and the prediction, which
 * is either a numeric answer field (spam's probability) or the mean of a numeric property over an
 * answer array (an OCR page's mean line confidence). Training and the server call the same
 * functions, so the reference and the live window bin the same values.
 */
import { featureValue, type TextFeature } from './drift.js';
import { imageSize } from './image-header.js';

/** Size of an encoded image input, from its header: width × height, or the longer side, in pixels. */
interface ImageFeature {
  name: string;
  kind: 'image_pixels' | 'image_long_side';
  edges: number[];
}

/** Number of elements of the answer's array `output` (e.g. `lines` of an OCR answer). */
interface OutputFeature {
  name: string;
  kind: 'output_count';
  output: string;
  edges: number[];
}

export type DriftFeature = TextFeature | ImageFeature | OutputFeature;

/**
 * The prediction's distribution: the numeric answer value `output`, or with `mean_of` the mean of
 * that numeric property over the elements of the array `output` (none for an empty array).
 */
export interface PredictionSpec {
  output: string;
  mean_of?: string;
  edges: number[];
}

/**
 * One answered item's outputs by name (the /v1 answer's fields, and signature outputs also by their
 * tensor name); values are whatever the answer holds, so every reader checks their type.
 */
export type Answer = Readonly<Record<string, unknown>>;

/**
 * The feature's value for one item, or `undefined` when the item has none (a text feature of an
 * image, an unreadable image header, an answer without the array): such an item is not counted.
 */
export function itemValue(f: DriftFeature, input: unknown, answer: Answer): number | undefined {
  switch (f.kind) {
    case 'length':
    case 'count':
      return typeof input === 'string' ? featureValue(f, input) : undefined;
    case 'image_pixels':
    case 'image_long_side': {
      const size = input instanceof Uint8Array ? imageSize(input) : undefined;
      if (!size) return undefined;
      return f.kind === 'image_pixels' ? size.width * size.height : Math.max(size.width, size.height);
    }
    case 'output_count': {
      const v = answer[f.output];
      return Array.isArray(v) ? v.length : undefined;
    }
  }
}

/** The prediction value of one answer, or `undefined` when it has none. */
export function predictionValue(p: PredictionSpec, answer: Answer): number | undefined {
  const v = answer[p.output];
  if (p.mean_of === undefined) return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
  if (!Array.isArray(v)) return undefined;
  let sum = 0;
  let n = 0;
  for (const e of v as unknown[]) {
    const x = e !== null && typeof e === 'object' ? (e as Record<string, unknown>)[p.mean_of] : undefined;
    if (typeof x === 'number' && Number.isFinite(x)) {
      sum += x;
      n++;
    }
  }
  return n > 0 ? sum / n : undefined;
}
