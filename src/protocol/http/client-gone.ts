/**
 * Cancellation for HTTP requests: a signal aborted when the client's connection closes, so that
 * queued work for a client that left is never computed.
 */
import type { Socket } from 'node:net';

const GONE = Symbol('inferd.clientGone');
type TrackedSocket = Socket & { [GONE]?: AbortController };

/**
 * One signal per connection, not per request: an HTTP/1.1 connection carries one request at a
 * time, and a client that leaves closes it. Creating an AbortController and its listener for every
 * request cost ~3% of the event loop at 4k requests/s on the spam model (cpu profile, 2-core bench
 * machine). Contract: per-request listeners must be removed when their request settles, since the
 * signal outlives the request on a keep-alive connection; the scheduler keeps one listener per
 * signal and its own set of waiting requests (src/scheduler/cancellation.ts).
 */
export function clientGone(connection: Socket | null): AbortSignal {
  const socket = connection as TrackedSocket | null;
  if (!socket || socket.destroyed) return AbortSignal.abort();
  let controller = socket[GONE];
  if (!controller) {
    const c = new AbortController();
    socket[GONE] = c;
    socket.once('close', () => c.abort());
    controller = c;
  }
  return controller.signal;
}
