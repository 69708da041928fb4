/**
 * What inferd does to each HTTP/2 server grpc-js creates, before grpc-js sees a connection or a
 * call: the connection cap, a time bound on a unary call's request message, and the repair of
 * long `grpc-timeout` headers.
 *
 * Why here: grpc-js parses `grpc-timeout` in the constructor of its call object, before any server
 * interceptor runs, as `(digits × unit) | 0`. The `| 0` wraps a timeout beyond 2³¹−1 ms (24.8 days)
 * to a negative number, so a 30-day deadline (`2592000S`, what grpc-js's own client sends for it)
 * became a deadline in the past: grpc-js answered DEADLINE_EXCEEDED after 1 ms and getDeadline()
 * returned a date in the past (issue 23, finding 8; @grpc/grpc-js 1.14 server-interceptors.js,
 * handleTimeoutHeader). The only place to fix the header first is a 'stream' listener ahead of
 * grpc-js's own on its HTTP/2 server, which grpc-js makes in its (private) createHttp2Server.
 * That method is wrapped on our Server instance; if a grpc-js upgrade removes it, start-up fails
 * here rather than the fix silently lapsing (and test/protocol/grpc-limits.test.ts fails).
 */
import type * as grpc from '@grpc/grpc-js';
import { constants, type Http2Server, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import { clip } from '../../core/clip.js';
import { MAX_TIMER_MS } from '../../core/timers.js';
import { InferdError } from '../../errors.js';
import { ERROR_CODE_KEY } from './errors.js';

export interface Http2GuardOptions {
  /** Connections at once; more are closed as they arrive (Node's net.Server maxConnections). */
  maxConnections: number;
  /** A unary call's request (headers to the end of its one message) must arrive within this, in ms. */
  requestTimeoutMs: number;
  /** Method paths whose request side stays open by design (client or bidi streaming): not timed. */
  streamingPaths: ReadonlySet<string>;
}

type Internals = { createHttp2Server?: (credentials: grpc.ServerCredentials) => Http2Server };

export function guardHttp2Servers(server: grpc.Server, opts: Http2GuardOptions): void {
  const internals = server as unknown as Internals;
  const create = internals.createHttp2Server;
  if (typeof create !== 'function') {
    throw new Error(
      '@grpc/grpc-js has no Server.createHttp2Server any more: update src/protocol/grpc/http2-guard.ts',
    );
  }
  internals.createHttp2Server = (credentials) => {
    const h2 = create.call(server, credentials);
    h2.maxConnections = opts.maxConnections;
    h2.prependListener('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
      clampGrpcTimeout(headers);
      const path = headers[':path'];
      if (typeof path === 'string' && !opts.streamingPaths.has(path)) {
        timeRequest(stream, path, opts.requestTimeoutMs);
      }
    });
    return h2;
  };
}

const UNIT_MS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 1e-3, n: 1e-6 };
const TIMEOUT = /^\s*(\d+)\s*([HMSmun])\s*$/;
/** grpc-js reads at most 8 digits (the spec's limit); past that its unanchored regex reads a tail. */
const MAX_DIGITS = 8;

/** `ms` in the header's own format, within 8 digits and within what grpc-js parses without overflow. */
function timeoutHeader(ms: number): string {
  const bounded = Math.min(ms, MAX_TIMER_MS);
  return bounded < 1e8 ? `${Math.ceil(bounded)}m` : `${Math.floor(bounded / 1000)}S`;
}

/**
 * Rewrites a `grpc-timeout` longer than a timer can wait (or longer than 8 digits) to the longest
 * one grpc-js parses correctly: 24.8 days, which is no deadline in practice. Malformed values are
 * left for grpc-js to refuse.
 */
function clampGrpcTimeout(headers: IncomingHttpHeaders): void {
  const value = headers['grpc-timeout'];
  if (typeof value !== 'string') return;
  const m = TIMEOUT.exec(value);
  if (!m) return;
  const ms = Number(m[1]) * UNIT_MS[m[2]!]!;
  if (ms > MAX_TIMER_MS || m[1]!.length > MAX_DIGITS) headers['grpc-timeout'] = timeoutHeader(ms);
}

/**
 * Answers DEADLINE_EXCEEDED (code `request_timeout`) and resets the stream when a unary call's
 * request has not fully arrived within `ms`: the gRPC form of the HTTP body timeout, so a stalled
 * 50 MB message cannot hold its buffer forever. grpc-js calls our handler only once the message
 * is complete, so the timer ends with the request side ('end') and never covers inference.
 */
function timeRequest(stream: ServerHttp2Stream, path: string, ms: number): void {
  const timer = setTimeout(() => {
    if (stream.destroyed || stream.closed) return;
    const e = new InferdError(
      'request_timeout',
      `the request message of ${clip(path)} did not arrive within ${ms} ms (--body-timeout-ms)`,
    );
    try {
      if (!stream.headersSent) {
        stream.respond(
          {
            ':status': 200,
            'content-type': 'application/grpc+proto',
            'grpc-status': String(e.grpcStatus),
            'grpc-message': encodeURIComponent(e.message),
            [ERROR_CODE_KEY]: e.code,
          },
          { endStream: true },
        );
      }
    } finally {
      // RST_STREAM NO_ERROR after the status: "stop sending" (RFC 9113 §8.1).
      stream.close(constants.NGHTTP2_NO_ERROR);
    }
  }, ms);
  const stop = (): void => clearTimeout(timer);
  stream.once('end', stop);
  stream.once('close', stop);
}
