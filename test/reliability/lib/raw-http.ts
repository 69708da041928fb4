/**
 * HTTP/1.1 on a raw socket: the suite writes exactly the bytes it wants (any header, a lying
 * Content-Length, a body in pieces with pauses) and reads one answer with http-parser-js. Every
 * call is bounded: no answer within `timeoutMs` is reported as hung, never awaited for ever.
 */
import net from 'node:net';
import { HTTPParser } from 'http-parser-js';

export interface RawAnswer {
  /** Set when a complete response arrived. */
  status?: number;
  headers: Record<string, string>;
  body: Buffer;
  /** The server closed the connection (before, during or after the answer). */
  closed: boolean;
  /** No answer and no close within the bound. */
  hung: boolean;
  /** A socket error (ECONNRESET, ECONNREFUSED, …). */
  error?: string;
  /** Milliseconds from connect to the answer, the close or the bound. */
  ms: number;
}

export interface RawOptions {
  timeoutMs: number;
  /** Written after the first bytes, one piece every `pauseMs` (slow clients). */
  pieces?: Buffer[];
  pauseMs?: number;
  /** Resolve as soon as the answer's headers are in (large bodies are not kept). */
  headersOnly?: boolean;
  /** Keep at most this many body bytes (the rest is counted, not kept). */
  keepBodyBytes?: number;
}

/** Sends `head` (then the pieces) on a fresh connection and reads one answer. */
export function rawRequest(
  port: number,
  head: Buffer,
  opts: RawOptions,
): Promise<RawAnswer & { bodyBytes: number }> {
  return exchange(net.connect({ host: '127.0.0.1', port, noDelay: true }), head, opts);
}

/** Connects and resolves once connected (or failed: the socket is then already destroyed). */
export function openConnection(port: number): Promise<net.Socket> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port, noDelay: true });
    // Errors before exchange() listens (a refused or reset connection) must not throw.
    socket.on('error', () => undefined);
    socket.once('connect', () => resolve(socket));
    socket.once('close', () => resolve(socket));
  });
}

/**
 * Sends `head` (then the pieces) on `socket` (connecting or connected) and reads one answer; the
 * socket is destroyed afterwards.
 */
export function exchange(
  socket: net.Socket,
  head: Buffer,
  opts: RawOptions,
): Promise<RawAnswer & { bodyBytes: number }> {
  return new Promise((resolve) => {
    const started = performance.now();
    const parser = new HTTPParser(HTTPParser.RESPONSE);
    const keep = opts.keepBodyBytes ?? 1024 * 1024;
    const chunks: Buffer[] = [];
    let kept = 0;
    let bodyBytes = 0;
    let status: number | undefined;
    let headers: Record<string, string> = {};
    let closed = false;
    let error: string | undefined;
    let done = false;
    const timers: NodeJS.Timeout[] = [];

    const finish = (hung: boolean, complete: boolean): void => {
      if (done) return;
      done = true;
      for (const t of timers) clearTimeout(t);
      socket.destroy();
      resolve({
        status: complete || opts.headersOnly ? status : undefined,
        headers,
        body: Buffer.concat(chunks),
        bodyBytes,
        closed,
        hung,
        ...(error ? { error } : {}),
        ms: performance.now() - started,
      });
    };

    parser[HTTPParser.kOnHeadersComplete] = (...args: unknown[]) => {
      const info = (typeof args[0] === 'object' ? args[0] : { headers: args[2], statusCode: args[5] }) as {
        headers: string[];
        statusCode: number;
      };
      status = info.statusCode;
      headers = {};
      for (let i = 0; i + 1 < info.headers.length; i += 2)
        headers[info.headers[i]!.toLowerCase()] = info.headers[i + 1]!;
      if (opts.headersOnly) finish(false, true);
    };
    parser[HTTPParser.kOnBody] = (chunk: Buffer, offset: number, length: number) => {
      bodyBytes += length;
      if (kept < keep) {
        const part = chunk.subarray(offset, offset + Math.min(length, keep - kept));
        chunks.push(Buffer.from(part));
        kept += part.length;
      }
    };
    parser[HTTPParser.kOnMessageComplete] = () => finish(false, true);

    socket.on('data', (d: Buffer) => {
      const r = parser.execute(d);
      if (r instanceof Error) {
        error = `unparseable answer: ${r.message}`;
        finish(false, false);
      }
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      error = err.code ?? err.message;
    });
    socket.on('close', () => {
      closed = true;
      // A response without Content-Length ends with the connection.
      if (status !== undefined) parser.finish();
      finish(false, status !== undefined);
    });
    const send = (): void => {
      socket.write(head);
      (opts.pieces ?? []).forEach((piece, i) => {
        timers.push(
          setTimeout(
            () => {
              if (!socket.destroyed) socket.write(piece);
            },
            (i + 1) * (opts.pauseMs ?? 0),
          ),
        );
      });
    };
    if (socket.destroyed) {
      closed = true;
      error = 'not connected';
      finish(false, false);
      return;
    }
    if (socket.connecting) socket.once('connect', send);
    else send();
    timers.push(setTimeout(() => finish(true, false), opts.timeoutMs));
  });
}

/** Request line and headers (CRLF-joined, blank line at the end) plus an optional body. */
export function httpBytes(
  method: string,
  path: string,
  headers: Array<[string, string]>,
  body?: Buffer,
): Buffer {
  const lines = [`${method} ${path} HTTP/1.1`, 'Host: 127.0.0.1', ...headers.map(([k, v]) => `${k}: ${v}`)];
  const head = Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1');
  return body ? Buffer.concat([head, body]) : head;
}
