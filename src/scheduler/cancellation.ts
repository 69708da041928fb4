/**
 * Watching queued requests for cancellation with one 'abort' listener per signal, not per request.
 * HTTP requests share their connection's signal (protocol/http/client-gone.ts); adding and removing
 * an EventTarget listener for each request was ~1.5% of the event loop (cpu profile, spam model at
 * concurrency 64), where a Set entry costs next to nothing. The listener stays as long as its
 * signal: one per connection, whatever the number of requests it carries.
 */
type Watchers = Set<() => void>;
const watched = new WeakMap<AbortSignal, Watchers>();

/** Calls `onAbort` once if `signal` aborts before `unwatch` is called with the returned handle. */
export function watchAbort(signal: AbortSignal, onAbort: () => void): Watchers {
  let watchers = watched.get(signal);
  if (!watchers) {
    const set: Watchers = new Set();
    watched.set(signal, set);
    signal.addEventListener(
      'abort',
      () => {
        const pending = [...set];
        set.clear();
        for (const fn of pending) fn();
      },
      { once: true },
    );
    watchers = set;
  }
  watchers.add(onAbort);
  return watchers;
}

export function unwatchAbort(watchers: Watchers, onAbort: () => void): void {
  watchers.delete(onAbort);
}
