/**
 * Limits of the HTTP server per connection and across connections, so that slow, stalled or simply
 * numerous clients cannot hold the server's memory or sockets (issue 23, finding 3):
 *
 * - headers and the whole request must arrive in time (Node's headersTimeout and requestTimeout,
 *   answered 408 `request_timeout` by `clientErrorHandler`); idle keep-alive connections close;
 * - at most `maxConnections` connections are served; requests on the ones beyond get 503
 *   `too_many_connections` and their connection closes (health probes and /metrics excepted: see
 *   app.ts); beyond twice the cap Node drops new connections unanswered, so a flood cannot exhaust
 *   file descriptors;
 * - request bodies held at once are bounded in total (`BodyBudget`, 503 `body_buffer_full`); per
 *   connection the bound is the body limit (413).
 *
 * Connection-level answers (timeouts, malformed HTTP, oversized headers) are written before any
 * route is known, in the /v2 error shape `{"error","code"}`, as every other error in our catalogue.
 */
import {
  maxHeaderSize,
  STATUS_CODES,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { clip } from '../../core/clip.js';
import { InferdError } from '../../errors.js';
import { errorBody } from './errors.js';

export interface HttpLimits {
  headersTimeoutMs: number;
  /** The whole request, headers and body. */
  bodyTimeoutMs: number;
  /** Keep-alive: a connection with no request in progress closes after this. */
  idleTimeoutMs: number;
  maxConnections: number;
  /** Request bodies held at once across connections. */
  maxBufferedBodyBytes: number;
}

/** Options for node:http createServer that enforce the timeouts. */
export function serverOptions(limits: HttpLimits): {
  headersTimeout: number;
  requestTimeout: number;
  keepAliveTimeout: number;
  connectionsCheckingInterval: number;
} {
  return {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.bodyTimeoutMs,
    keepAliveTimeout: limits.idleTimeoutMs,
    // Node checks both timeouts on this interval (30 s by default, so a 1 s timeout would fire up
    // to 30 s late): a tenth of the shorter one, between 50 ms and 30 s. The check walks only the
    // connections with a request in progress.
    connectionsCheckingInterval: Math.min(
      30_000,
      Math.max(50, Math.floor(Math.min(limits.headersTimeoutMs, limits.bodyTimeoutMs) / 10)),
    ),
  };
}

const HELD = Symbol('inferd.bodyBytesHeld');
type Holder = ServerResponse & { [HELD]?: number };

/**
 * Bytes of request bodies held at once, across connections. A request takes bytes as its body
 * arrives (or all its declared Content-Length at once) and gives them back when its response
 * closes: finished, failed, or the client gone.
 */
export class BodyBudget {
  private used = 0;

  constructor(readonly limitBytes: number) {}

  get usedBytes(): number {
    return this.used;
  }

  /** Takes `n` bytes until `res` closes; false, taking nothing, when they do not fit. */
  take(res: ServerResponse, n: number): boolean {
    if (n <= 0) return true;
    if (this.used + n > this.limitBytes || res.closed) return false;
    this.used += n;
    const holder = res as Holder;
    if (holder[HELD] === undefined) {
      holder[HELD] = 0;
      res.once('close', () => {
        this.used -= holder[HELD]!;
        holder[HELD] = 0;
      });
    }
    holder[HELD] += n;
    return true;
  }
}

const OVER_CAP = Symbol('inferd.overConnectionCap');
type Marked = Socket & { [OVER_CAP]?: boolean };

function tooManyConnections(max: number): InferdError {
  return InferdError.withoutStack(
    'too_many_connections',
    `the server has too many open connections (${max}); retry shortly, and reuse connections (keep-alive)`,
    { headers: { 'retry-after': '1', connection: 'close' } },
  );
}

export function bodyBufferFull(limit: number): InferdError {
  return InferdError.withoutStack(
    'body_buffer_full',
    `the server holds the most request bodies it may at once (${limit} bytes, --max-buffered-body-bytes); retry shortly`,
    { headers: { 'retry-after': '1', connection: 'close' } },
  );
}

export class ConnectionGuard {
  readonly budget: BodyBudget;
  private open = 0;

  constructor(
    readonly limits: HttpLimits,
    private readonly logger: Logger,
  ) {
    this.budget = new BodyBudget(limits.maxBufferedBodyBytes);
  }

  /** Counts connections on `server` and sets the hard ceiling (twice the cap). */
  attach(server: Server): void {
    server.maxConnections = 2 * this.limits.maxConnections;
    server.on('connection', (socket: Marked) => {
      this.open += 1;
      if (this.open > this.limits.maxConnections) socket[OVER_CAP] = true;
      socket.once('close', () => (this.open -= 1));
    });
  }

  /** The refusal of a request on a connection beyond the cap, if it is one. */
  connectionRefusal(req: IncomingMessage): InferdError | undefined {
    return (req.socket as Marked)[OVER_CAP] ? tooManyConnections(this.limits.maxConnections) : undefined;
  }

  /**
   * For requests whose body another reader buffers (fastify's parsers): the over-cap refusal, or
   * the body budget taken up front, the declared Content-Length or, for a chunked body, the body
   * limit (its size is unknown until read). A declared length over the limit takes nothing: that
   * request is refused with 413 before its body is read.
   */
  admit(req: IncomingMessage, res: ServerResponse, maxBodyBytes: number): InferdError | undefined {
    const refused = this.connectionRefusal(req);
    if (refused) return refused;
    const declared = req.headers['content-length'];
    let bytes = 0;
    if (declared !== undefined) {
      const n = Number(declared);
      bytes = Number.isFinite(n) && n <= maxBodyBytes ? n : 0;
    } else if (req.headers['transfer-encoding'] !== undefined) {
      bytes = maxBodyBytes;
    }
    return this.budget.take(res, bytes) ? undefined : bodyBufferFull(this.limits.maxBufferedBodyBytes);
  }

  /**
   * Node's 'clientError': a request that timed out or is not HTTP. Answers with our error body
   * (fastify's default wrote `{"statusCode":…}` bodies) unless a response has started, then
   * closes the connection once the answer is flushed.
   */
  readonly clientErrorHandler = (err: NodeJS.ErrnoException, socket: Socket): void => {
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    // Node's parser state: the request in progress once its headers were read.
    const incoming = (socket as Socket & { parser?: { incoming?: IncomingMessage | null } }).parser?.incoming;
    const e = this.connectionError(err, incoming ?? undefined);
    const started = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage?.headersSent;
    if (socket.writable && !started) {
      const body = errorBody(e);
      const head = [
        `HTTP/1.1 ${e.httpStatus} ${STATUS_CODES[e.httpStatus] ?? ''}`,
        'content-type: application/json',
        `content-length: ${Buffer.byteLength(body)}`,
        'connection: close',
      ];
      socket.end(`${head.join('\r\n')}\r\n\r\n${body}`);
      socket.destroySoon();
    } else {
      socket.destroy();
    }
    this.logger.info(
      {
        method: incoming?.method,
        url: incoming?.url ? clip(incoming.url) : undefined,
        status: e.httpStatus,
        code: e.code,
      },
      'request refused at the connection',
    );
  };

  private connectionError(err: NodeJS.ErrnoException, incoming: IncomingMessage | undefined): InferdError {
    const { headersTimeoutMs, bodyTimeoutMs } = this.limits;
    switch (err.code) {
      case 'ERR_HTTP_REQUEST_TIMEOUT':
        return InferdError.withoutStack(
          'request_timeout',
          incoming
            ? `the request body did not arrive within ${bodyTimeoutMs} ms of the request's start (--body-timeout-ms)`
            : `the request headers did not arrive within ${headersTimeoutMs} ms (--headers-timeout-ms)`,
        );
      case 'HPE_HEADER_OVERFLOW':
        return InferdError.withoutStack(
          'headers_too_large',
          `the request headers are larger than ${maxHeaderSize} bytes`,
        );
      default:
        // llhttp's reason (e.g. "Invalid method encountered") names the fault without internals.
        return InferdError.withoutStack(
          'invalid_request',
          `the request is not valid HTTP/1.1${err.message ? `: ${clip(err.message)}` : ''}`,
        );
    }
  }
}
