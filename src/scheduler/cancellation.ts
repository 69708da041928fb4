/**
 * Watching queued requests for cancellation with one 'abort' listener per signal and one entry per
 * scheduler, never one per request. HTTP requests share their connection's signal
 * (protocol/http/client-gone.ts), so a keep-alive connection's signal outlives its requests.
 *
 * Why no per-request entry: an EventTarget listener per request was ~1.5% of the event loop at
 * concurrency 64; a closure per request added to and deleted from the signal's long-lived set was
 * worse: with it, ~1.6 MB of request objects survived every scavenge on the spam model at
 * concurrency 1 and scavenges took 7–14 ms (node --trace-gc-nvp), against ~4 KB and 0.9 ms without
 * (bench/results/spam-defaults.md). A scheduler's handler is added once per signal (a Set lookup
 * afterwards) and, when the signal aborts, removes that signal's requests from its own queue.
 */
type OnAbort = (signal: AbortSignal) => void;

const watched = new WeakMap<AbortSignal, Set<OnAbort>>();

/** Calls `onAbort(signal)` once when `signal` aborts; calling again with the same pair adds nothing. */
export function watchAbort(signal: AbortSignal, onAbort: OnAbort): void {
  let watchers = watched.get(signal);
  if (!watchers) {
    const set = new Set<OnAbort>();
    watched.set(signal, set);
    signal.addEventListener(
      'abort',
      () => {
        const pending = [...set];
        set.clear();
        for (const fn of pending) fn(signal);
      },
      { once: true },
    );
    watchers = set;
  }
  watchers.add(onAbort);
}
