/**
 * Counter and histogram families for the per-request path: each label set gets a cell of plain
 * numbers, bound once per model version, so recording is an add (and a bucket search) with no
 * label validation or hashing. prom-client's own `observe(labels, v)` hashes the label object on
 * every call: ~18 µs a request over the three per-request families on the 2-core bench machine
 * (profile of `npm start` at c=1, bench/results/spam-defaults.md; ~0.9 µs each in isolation). The families register in a prom-client registry and render
 * exactly as its Counter and Histogram do (same names, `le` buckets, `_sum`, `_count`).
 */
import type client from 'prom-client';

type Labels<L extends string> = Record<L, string>;

interface FamilyOptions<L extends string> {
  name: string;
  help: string;
  labelNames: readonly L[];
  registers: client.Registry[];
}

/** A value in prom-client's get() form. */
interface Value {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

abstract class Family<L extends string, C> {
  readonly name: string;
  readonly help: string;
  /** Label set key → labels and cell; insertion order is the exposition order. */
  protected readonly cells = new Map<string, { labels: Labels<L>; cell: C }>();

  constructor(
    private readonly opts: FamilyOptions<L>,
    readonly type: 'counter' | 'histogram',
  ) {
    this.name = opts.name;
    this.help = opts.help;
    for (const r of opts.registers) r.registerMetric(this as unknown as client.Metric);
  }

  /** The cell of one label set; call once and keep it (this lookup builds a key). */
  cell(labels: Labels<L>): C {
    const key = this.opts.labelNames.map((n) => labels[n]).join('\u0000');
    let entry = this.cells.get(key);
    if (!entry) {
      entry = { labels: { ...labels }, cell: this.create() };
      this.cells.set(key, entry);
    }
    return entry.cell;
  }

  protected abstract create(): C;
  protected abstract values(): Value[];

  /** prom-client's metric interface (Registry.metrics and getMetricsAsJSON call it). */
  get(): { name: string; help: string; type: string; values: Value[]; aggregator: 'sum' } {
    return { name: this.name, help: this.help, type: this.type, values: this.values(), aggregator: 'sum' };
  }

  reset(): void {
    this.cells.clear();
  }
}

export interface CounterCell {
  value: number;
}

export class CounterFamily<L extends string> extends Family<L, CounterCell> {
  constructor(opts: FamilyOptions<L>) {
    super(opts, 'counter');
  }

  protected create(): CounterCell {
    return { value: 0 };
  }

  protected values(): Value[] {
    return [...this.cells.values()].map(({ labels, cell }) => ({ labels, value: cell.value }));
  }
}

export class HistogramCell {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length);
  }

  observe(v: number): void {
    if (!Number.isFinite(v)) return;
    const b = this.bounds;
    let i = 0;
    while (i < b.length && v > b[i]!) i++;
    if (i < b.length) this.counts[i]! += 1;
    this.sum += v;
    this.count += 1;
  }
}

export class HistogramFamily<L extends string> extends Family<L, HistogramCell> {
  private readonly buckets: readonly number[];

  constructor(opts: FamilyOptions<L> & { buckets: readonly number[] }) {
    super(opts, 'histogram');
    this.buckets = [...opts.buckets].sort((a, b) => a - b);
  }

  protected create(): HistogramCell {
    return new HistogramCell(this.buckets);
  }

  protected values(): Value[] {
    const out: Value[] = [];
    for (const { labels, cell } of this.cells.values()) {
      let acc = 0;
      this.buckets.forEach((le, i) => {
        acc += cell.counts[i]!;
        out.push({ labels: { le, ...labels }, value: acc, metricName: `${this.name}_bucket` });
      });
      out.push({ labels: { le: '+Inf', ...labels }, value: cell.count, metricName: `${this.name}_bucket` });
      out.push({ labels, value: cell.sum, metricName: `${this.name}_sum` });
      out.push({ labels, value: cell.count, metricName: `${this.name}_count` });
    }
    return out;
  }
}
