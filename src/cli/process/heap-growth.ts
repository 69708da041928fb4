/**
 * Old-generation sizing for a latency-bound server. After every full GC, V8 sets the next limit at
 * the live heap times a growth factor it derives from GC speed against allocation speed. After a
 * quiet spell that factor is its minimum, 1.1 (`--trace-gc-verbose`: a 40 MB limit over a 31 MB
 * heap). A burst of refusals then reached the limit every ~300 ms, before the young generation even
 * filled (1–2 scavenges per 8 s), and each time V8 ran a full mark-compact (5–16 ms pauses on the
 * event loop); the factor, recomputed on an old-space allocation speed that stayed low, never
 * recovered. Measured on the 2-core bench machine (cnn overload step, 10% load then 10× load, 8 s
 * each, same server): 22–24 full GCs per 8 s, refusal p99 18–20 ms and admitted p99 60–79 ms with
 * V8's own sizing; 0 full GCs, refusal p99 4.0–4.1 ms and admitted p99 35–44 ms at a fixed factor
 * of 2 (heap_growing_percent 100). The cost: a heap that may grow to twice its live size.
 */
import { setFlagsFromString } from 'node:v8';

/**
 * Fixes V8's growth factor for this process (every isolate: the event loop and the workers).
 * `percent` 0 keeps V8's own sizing, and so does a `--heap-growing-percent` given to node itself.
 * Returns the percent now in force, or undefined for V8's own sizing.
 */
export function fixHeapGrowth(
  percent: number,
  execArgv: readonly string[] = process.execArgv,
): number | undefined {
  const given = execArgv.find((a) => /^--heap[-_]growing[-_]percent(=|$)/.test(a));
  if (given) return Number(given.split('=')[1]) || undefined;
  if (percent <= 0) return undefined;
  setFlagsFromString(`--heap-growing-percent=${percent}`);
  return percent;
}
