/**
 * Reads the server's own Prometheus text (/metrics): request-duration histogram buckets (for p50
 * and p99, as Prometheus' histogram_quantile does: linear within the bucket) and the pending
 * requests gauge (queue depth), per model and version.
 */
export interface Histogram {
  /** upper bound (s) → cumulative count */
  buckets: Map<number, number>;
  count: number;
}

export interface ModelMetrics {
  duration: Histogram;
  pending: number;
}

const LINE = /^([a-z_:]+)\{([^}]*)\}\s+(\S+)$/;

function labels(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of s.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) out[m[1]!] = m[2]!;
  return out;
}

export function parseMetrics(text: string): Map<string, ModelMetrics> {
  const out = new Map<string, ModelMetrics>();
  const get = (model: string, version: string) => {
    const k = `${model}/${version}`;
    let m = out.get(k);
    if (!m) {
      m = { duration: { buckets: new Map(), count: 0 }, pending: 0 };
      out.set(k, m);
    }
    return m;
  };
  for (const line of text.split('\n')) {
    const m = LINE.exec(line);
    if (!m) continue;
    const [, name, l, v] = m as unknown as [string, string, string, string];
    const lab = labels(l);
    if (lab.model === undefined) continue;
    const value = Number(v);
    if (name === 'inferd_request_duration_seconds_bucket') {
      get(lab.model, lab.version ?? '').duration.buckets.set(
        lab.le === '+Inf' ? Infinity : Number(lab.le),
        value,
      );
    } else if (name === 'inferd_request_duration_seconds_count') {
      get(lab.model, lab.version ?? '').duration.count = value;
    } else if (name === 'inferd_pending_requests') {
      get(lab.model, lab.version ?? '').pending = value;
    }
  }
  return out;
}

/** The difference of two readings of one histogram (requests between them). */
export function delta(now: Histogram, before: Histogram | undefined): Histogram {
  if (!before) return now;
  const buckets = new Map<number, number>();
  for (const [le, n] of now.buckets) buckets.set(le, n - (before.buckets.get(le) ?? 0));
  return { buckets, count: now.count - before.count };
}

/** The q-quantile in seconds, or undefined with no observations. */
export function quantile(hist: Histogram, q: number): number | undefined {
  if (hist.count <= 0) return undefined;
  const bounds = [...hist.buckets.keys()].sort((a, b) => a - b);
  const rank = q * hist.count;
  let prevBound = 0;
  let prevCount = 0;
  for (const le of bounds) {
    const c = hist.buckets.get(le)!;
    if (c >= rank) {
      if (le === Infinity) return prevBound;
      const inBucket = c - prevCount;
      return inBucket > 0 ? prevBound + ((le - prevBound) * (rank - prevCount)) / inBucket : le;
    }
    prevBound = le;
    prevCount = c;
  }
  return prevBound;
}
