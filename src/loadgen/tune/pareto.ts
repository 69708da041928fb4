/**
 * Which measured settings are worth having: the Pareto front over throughput (higher is better)
 * and p99 latency (lower is better), and the one `inferd tune` recommends.
 */

export interface Measured<T> {
  point: T;
  /** Successful answers per second. */
  throughput: number;
  /** Milliseconds. */
  p50: number;
  p99: number;
  /** Requests that failed during the step (a candidate with failures is never recommended). */
  failed: number;
}

/** Points no other point beats on both axes (ties on both keep the first), sorted by p99. */
export function paretoFront<T>(all: readonly Measured<T>[]): Measured<T>[] {
  const ok = all.filter((m) => m.failed === 0 && m.throughput > 0);
  const front = ok.filter(
    (m, i) =>
      !ok.some(
        (o, j) =>
          j !== i &&
          o.throughput >= m.throughput &&
          o.p99 <= m.p99 &&
          (o.throughput > m.throughput || o.p99 < m.p99 || j < i),
      ),
  );
  return front.sort((a, b) => a.p99 - b.p99 || b.throughput - a.throughput);
}

/**
 * With a p99 budget: the highest throughput within it (none if nothing fits). Without: the highest
 * throughput, where points within `tie` (2%) of it count as equal and the lowest p99 among them wins.
 */
export function recommend<T>(
  all: readonly Measured<T>[],
  budgetP99Ms?: number,
  tie = 0.02,
): Measured<T> | undefined {
  const front = paretoFront(all);
  const fits = budgetP99Ms === undefined ? front : front.filter((m) => m.p99 <= budgetP99Ms);
  if (fits.length === 0) return undefined;
  const best = Math.max(...fits.map((m) => m.throughput));
  const near = fits.filter((m) => m.throughput >= best * (1 - tie));
  return near.sort((a, b) => a.p99 - b.p99)[0];
}
