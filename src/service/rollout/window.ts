/**
 * Outcomes of one version over a sliding time window: request and error counts and a latency
 * histogram, kept in `slices` time slices so memory is fixed whatever the traffic. The window
 * advances a slice at a time (a 60 s window with 12 slices forgets in 5 s steps).
 */

/** Latency bins grow by 10%: p99 is read within 10% of the true value, in 200 bins (0.1 ms … 19 min). */
const BIN_BASE_MS = 0.1;
const BIN_GROWTH = 1.1;
const BINS = 200;
const LOG_GROWTH = Math.log(BIN_GROWTH);

export function binOf(ms: number): number {
  if (!(ms > BIN_BASE_MS)) return 0;
  return Math.min(BINS - 1, Math.ceil(Math.log(ms / BIN_BASE_MS) / LOG_GROWTH));
}

/** The upper edge of a bin, in ms (what a percentile read from the histogram reports). */
export function binUpperMs(bin: number): number {
  return BIN_BASE_MS * BIN_GROWTH ** bin;
}

interface Slice {
  /** Start of the slice (ms), or -1 when unused. */
  start: number;
  requests: number;
  errors: number;
  latency: Uint32Array;
}

export interface WindowSnapshot {
  requests: number;
  errors: number;
  /** errors / requests, 0 with no requests. */
  errorRate: number;
  /** p99 of successful requests' latency (ms), undefined with none. */
  p99Ms: number | undefined;
}

export class SlidingWindow {
  private readonly slices: Slice[];
  private readonly sliceMs: number;

  constructor(
    readonly windowMs: number,
    slices = 12,
  ) {
    this.sliceMs = Math.max(1, Math.ceil(windowMs / slices));
    this.slices = Array.from({ length: slices }, () => ({
      start: -1,
      requests: 0,
      errors: 0,
      latency: new Uint32Array(BINS),
    }));
  }

  private slice(now: number): Slice {
    const start = Math.floor(now / this.sliceMs) * this.sliceMs;
    const s = this.slices[Math.floor(now / this.sliceMs) % this.slices.length]!;
    if (s.start !== start) {
      s.start = start;
      s.requests = 0;
      s.errors = 0;
      s.latency.fill(0);
    }
    return s;
  }

  /** One request's outcome; latency counts only for successes (a fast failure is no speed). */
  record(now: number, ok: boolean, latencyMs: number): void {
    const s = this.slice(now);
    s.requests += 1;
    if (ok) s.latency[binOf(latencyMs)]! += 1;
    else s.errors += 1;
  }

  snapshot(now: number): WindowSnapshot {
    const oldest = now - this.windowMs;
    let requests = 0;
    let errors = 0;
    const merged = new Uint32Array(BINS);
    for (const s of this.slices) {
      // A slice counts while any of it is inside the window.
      if (s.start < 0 || s.start + this.sliceMs <= oldest || s.start > now) continue;
      requests += s.requests;
      errors += s.errors;
      for (let i = 0; i < BINS; i++) merged[i]! += s.latency[i]!;
    }
    const ok = requests - errors;
    let p99Ms: number | undefined;
    if (ok > 0) {
      const rank = Math.ceil(ok * 0.99);
      let seen = 0;
      for (let i = 0; i < BINS; i++) {
        seen += merged[i]!;
        if (seen >= rank) {
          p99Ms = binUpperMs(i);
          break;
        }
      }
    }
    return { requests, errors, errorRate: requests === 0 ? 0 : errors / requests, p99Ms };
  }

  clear(): void {
    for (const s of this.slices) s.start = -1;
  }
}
