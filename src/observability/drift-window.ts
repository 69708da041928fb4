/**
 * Live drift of one model version (docs/lifecycle.md#feedback-and-drift): a rolling window of the
 * last `size` answered items, binned with the version's training reference (drift_reference.json,
 * same feature definitions and edges), and the population stability index of each feature and of
 * the prediction against the reference. Observing costs a bin lookup per feature and item; PSI is
 * computed only when asked (on a /metrics scrape). Memory is bounded: one byte per item and feature.
 */
import { binOf, featureValue, psi, type TextFeature } from '../core/drift.js';

/** Items kept per window: enough for a stable PSI over ~10 bins, a few hours of moderate traffic. */
const DRIFT_WINDOW_ITEMS = 10_000;
/** PSI is reported only from this many items on: fewer give a noisy index that alerts on chance. */
const DRIFT_MIN_ITEMS = 100;

/** The reference file's content, as far as the server reads it (training writes more). */
export interface DriftReferenceFile {
  schema: 'inferd.drift-reference/v1';
  /** The text input field (signature field or tensor name). */
  input: string;
  features: Array<TextFeature & { counts: number[] }>;
  /** The numeric output (signature field or tensor name) and its reference histogram. */
  prediction?: { output: string; edges: number[]; counts: number[] };
}

/** Validates a parsed drift_reference.json; throws a plain Error naming what is wrong. */
export function parseDriftReference(v: unknown): DriftReferenceFile {
  const r = v as Partial<DriftReferenceFile> | null;
  const okHist = (h: { edges?: unknown; counts?: unknown } | undefined): boolean =>
    !!h &&
    Array.isArray(h.edges) &&
    Array.isArray(h.counts) &&
    h.edges.length < 255 &&
    h.counts.length === h.edges.length + 1 &&
    h.edges.every((x) => typeof x === 'number') &&
    h.counts.every((x) => typeof x === 'number' && x >= 0);
  if (
    !r ||
    r.schema !== 'inferd.drift-reference/v1' ||
    typeof r.input !== 'string' ||
    !Array.isArray(r.features) ||
    !r.features.every(
      (f) => typeof f.name === 'string' && (f.kind === 'length' || f.kind === 'count') && okHist(f),
    ) ||
    (r.prediction !== undefined && (typeof r.prediction.output !== 'string' || !okHist(r.prediction)))
  ) {
    throw new Error('not an inferd.drift-reference/v1 file with features and bin counts');
  }
  return r as DriftReferenceFile;
}

/** A ring of bin indices with running counts per bin. */
class RollingHistogram {
  private readonly ring: Uint8Array;
  private next = 0;
  private filled = 0;
  readonly counts: number[];

  constructor(
    readonly edges: readonly number[],
    readonly reference: readonly number[],
    size: number,
  ) {
    this.ring = new Uint8Array(size);
    this.counts = new Array<number>(edges.length + 1).fill(0);
  }

  add(value: number): void {
    const bin = binOf(value, this.edges);
    if (this.filled === this.ring.length) this.counts[this.ring[this.next]!]! -= 1;
    else this.filled++;
    this.ring[this.next] = bin;
    this.counts[bin]! += 1;
    this.next = (this.next + 1) % this.ring.length;
  }

  get items(): number {
    return this.filled;
  }
}

export class DriftWindow {
  private readonly features: Array<{ f: TextFeature; h: RollingHistogram }>;
  private readonly prediction?: RollingHistogram;

  constructor(
    readonly reference: DriftReferenceFile,
    size = DRIFT_WINDOW_ITEMS,
    private readonly minItems = DRIFT_MIN_ITEMS,
  ) {
    this.features = reference.features.map((f) => ({ f, h: new RollingHistogram(f.edges, f.counts, size) }));
    const p = reference.prediction;
    if (p) this.prediction = new RollingHistogram(p.edges, p.counts, size);
  }

  /** The input field the features are computed on. */
  get input(): string {
    return this.reference.input;
  }

  /** The prediction output the reference binned, if any. */
  get output(): string | undefined {
    return this.reference.prediction?.output;
  }

  /** One answered item: its input text and, when the model answers one, its predicted score. */
  observe(text: string, score?: number): void {
    for (const { f, h } of this.features) h.add(featureValue(f, text));
    if (this.prediction && typeof score === 'number' && Number.isFinite(score)) this.prediction.add(score);
  }

  /** Items in the window (of the input features). */
  get items(): number {
    return this.features[0]?.h.items ?? 0;
  }

  /** PSI per feature name (and `prediction`), for windows holding at least the minimum of items. */
  psi(): Map<string, number> {
    const out = new Map<string, number>();
    for (const { f, h } of this.features) {
      if (h.items >= this.minItems) out.set(f.name, psi(h.reference, h.counts));
    }
    const p = this.prediction;
    if (p && p.items >= this.minItems) out.set('prediction', psi(p.reference, p.counts));
    return out;
  }
}
