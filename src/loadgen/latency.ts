/**
 * Latency samples of one bench step, kept exactly (a Float64Array that doubles): a 10 s step at
 * 20k req/s is 200k samples = 1.6 MB, far cheaper than the requests themselves.
 */

export interface LatencySummary {
  count: number;
  /** Milliseconds. Zero when there are no samples. */
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export class LatencyRecorder {
  private samples = new Float64Array(1024);
  private n = 0;

  get count(): number {
    return this.n;
  }

  /** `ms`: one request's latency in milliseconds. */
  record(ms: number): void {
    if (this.n === this.samples.length) {
      const bigger = new Float64Array(this.samples.length * 2);
      bigger.set(this.samples);
      this.samples = bigger;
    }
    this.samples[this.n++] = ms;
  }

  summary(): LatencySummary {
    const sorted = this.samples.slice(0, this.n).sort();
    // Nearest-rank percentile: the smallest sample with at least q of the samples at or below it.
    const at = (q: number): number =>
      this.n === 0 ? 0 : sorted[Math.min(this.n - 1, Math.ceil(q * this.n) - 1)]!;
    let sum = 0;
    for (const x of sorted) sum += x;
    return {
      count: this.n,
      mean: this.n === 0 ? 0 : sum / this.n,
      p50: at(0.5),
      p90: at(0.9),
      p99: at(0.99),
      max: this.n === 0 ? 0 : sorted[this.n - 1]!,
    };
  }
}
