/**
 * HTTP/1.1 over a raw socket, for tests that need what fetch cannot do: send a request in pieces,
 * stall mid-body, hold a connection open, or send malformed HTTP. Every wait is bounded.
 */
import { connect, type Socket } from 'node:net';

export interface RawConnection {
  socket: Socket;
  /** Everything the server sent so far. */
  received(): string;
  /** Resolves once the server closed the connection (or it failed). */
  closed: Promise<void>;
  write(text: string | Buffer): void;
  /** Resolves once `received()` holds a whole response (headers and a Content-Length body). */
  response(timeoutMs?: number): Promise<RawResponse>;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Parses the first complete response in `text`, or undefined while it is incomplete. */
function parseResponse(text: string): RawResponse | undefined {
  return parseResponses(text)[0];
}

/** Every complete response in `text` (pipelined responses one after another). */
export function parseResponses(text: string): RawResponse[] {
  const out: RawResponse[] = [];
  for (let rest = text; ;) {
    const one = parseOne(rest);
    if (!one) return out;
    out.push(one.response);
    rest = rest.slice(one.length);
  }
}

function parseOne(text: string): { response: RawResponse; length: number } | undefined {
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const [statusLine, ...lines] = text.slice(0, end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const l of lines) {
    const i = l.indexOf(':');
    headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  const length = Number(headers['content-length'] ?? 0);
  const body = text.slice(end + 4);
  if (body.length < length) return undefined; // latin1: one character per byte
  return {
    response: { status: Number(statusLine!.split(' ')[1]), headers, body: body.slice(0, length) },
    length: end + 4 + length,
  };
}

export function rawConnect(url: string): Promise<RawConnection> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let data = '';
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    socket.on('data', (d: Buffer) => (data += d.toString('latin1')));
    socket.on('error', () => undefined);
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.removeListener('error', reject);
      resolve({
        socket,
        received: () => data,
        closed,
        write: (t) => socket.write(t),
        response: (timeoutMs = 10_000) => until(() => parseResponse(data), timeoutMs, 'a response'),
      });
    });
  });
}

/** Polls `get` until it returns a value; rejects after `timeoutMs` naming what was awaited. */
export async function until<T>(get: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = get();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Resolves true once `p` settles, false after `ms` (a bounded wait, never an assertion on speed). */
export function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  return Promise.race([
    p.then(() => true),
    new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref()),
  ]);
}
