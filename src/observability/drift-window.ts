/**
 * Live drift of one model version (docs/lifecycle.md#feedback-and-drift): a rolling window of the
 * last `size` answered items, binned with the version's training reference (drift_reference.json,
 * same feature definitions and edges, core/drift-reference.ts), and the population stability index
 * of each feature and of the prediction against the reference. Each feature keeps its own window:
 * an item without a value for it (an image header that cannot be read, a page with no lines for
 * the mean confidence) is left out of that feature only. Observing costs a bin lookup per feature
 * and item (and a header read of at most 1 MiB for image features); PSI is computed only when asked
 * (on a /metrics scrape). Memory is bounded: one byte per item and feature.
 */
import { binOf, psi } from '../core/drift.js';
import { itemValue, predictionValue, type Answer, type DriftFeature } from '../core/drift-features.js';
import type { DriftReferenceFile } from '../core/drift-reference.js';

/** Items kept per window: enough for a stable PSI over ~10 bins, a few hours of moderate traffic. */
const DRIFT_WINDOW_ITEMS = 10_000;
/** PSI is reported only from this many items on: fewer give a noisy index that alerts on chance. */
const DRIFT_MIN_ITEMS = 100;

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
  private readonly features: Array<{ f: DriftFeature; h: RollingHistogram }>;
  private readonly prediction?: RollingHistogram;
  /** The answer outputs the features and the prediction read (for the caller to put in `Answer`). */
  readonly outputs: readonly string[];

  constructor(
    readonly reference: DriftReferenceFile,
    size = DRIFT_WINDOW_ITEMS,
    private readonly minItems = DRIFT_MIN_ITEMS,
  ) {
    this.features = reference.features.map((f) => ({ f, h: new RollingHistogram(f.edges, f.counts, size) }));
    const p = reference.prediction;
    if (p) this.prediction = new RollingHistogram(p.edges, p.counts, size);
    const names = reference.features.flatMap((f) => (f.kind === 'output_count' ? [f.output] : []));
    this.outputs = [...new Set(p ? [...names, p.output] : names)];
  }

  /** The input field the features are computed on. */
  get input(): string {
    return this.reference.input;
  }

  /**
   * One answered item: the value of its input (text, or the encoded image's bytes) and its answer,
   * holding at least the outputs named by `outputs`.
   */
  observe(input: unknown, answer: Answer): void {
    for (const { f, h } of this.features) {
      const v = itemValue(f, input, answer);
      if (v !== undefined && Number.isFinite(v)) h.add(v);
    }
    const p = this.reference.prediction;
    const score = p && this.prediction ? predictionValue(p, answer) : undefined;
    if (score !== undefined) this.prediction!.add(score);
  }

  /** Items in the window (of the first feature). */
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
