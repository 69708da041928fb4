/**
 * The REST JSON client `inferd bench` uses: `RestJsonClient` with `infer` on keep-alive TCP
 * connections of its own. Each request's bytes (request line, headers and JSON body) are built
 * once and written as they are, and answers are parsed with http-parser-js (autocannon's parser).
 *
 * Why not node:http or undici: the load generator shares the machine with the server it measures,
 * so its CPU per request is taken from the server, and its own event-loop delays are counted as
 * the server's latency. At 1,220 req/s open loop against a server refusing most requests (2-core
 * bench machine, 6 s step, CPU of the bench process less its 1.3 s start-up): node:http with a
 * keep-alive agent ~2.9 CPU-seconds, undici's Pool ~3.1, this client ~1.8; the refusal p99 it
 * reported fell from 36–91 ms (node:http) to 5.6 ms, and with node:http the admitted p99 was 4×
 * what an idle probe client saw at the same time (155 against 36 ms).
 */
import net from 'node:net';
import { HTTPParser } from 'http-parser-js';
import type { InferenceResponse } from '../core/tensor.js';
import { encodeJsonInput } from '../oip-client/json-request.js';
import { decodeJsonOutputs } from '../oip-client/json-response.js';
import { errorFromBody, modelPath, RestJsonClient } from '../oip-client/rest-json.js';
import type { CallOptions, ClientRequest } from '../oip-client/types.js';

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

interface Pending {
  resolve: (a: Answer) => void;
  reject: (e: Error) => void;
  timer?: NodeJS.Timeout;
  onAbort?: () => void;
  signal?: AbortSignal;
}

const timeoutError = (): Error => Object.assign(new Error('request timed out'), { name: 'TimeoutError' });

/** One keep-alive connection carrying one request at a time. */
class Connection {
  readonly socket: net.Socket;
  private readonly parser = new HTTPParser(HTTPParser.RESPONSE);
  private pending: Pending | undefined;
  private status = 0;
  private headers: Record<string, string> = {};
  private chunks: Buffer[] = [];
  private keepAlive = true;
  closed = false;

  constructor(
    host: string,
    port: number,
    private readonly release: (c: Connection) => void,
  ) {
    this.socket = net.connect({ host, port, noDelay: true });
    this.parser[HTTPParser.kOnHeadersComplete] = (...args: unknown[]) => {
      // http-parser-js passes one info object, or positional fields in its Node 0.11 mode.
      const info = (
        typeof args[0] === 'object'
          ? args[0]
          : { headers: args[2], statusCode: args[5], shouldKeepAlive: args[8] }
      ) as { headers: string[]; statusCode: number; shouldKeepAlive: boolean };
      this.status = info.statusCode;
      this.keepAlive = info.shouldKeepAlive;
      const headers: Record<string, string> = {};
      for (let i = 0; i + 1 < info.headers.length; i += 2)
        headers[info.headers[i]!.toLowerCase()] = info.headers[i + 1]!;
      this.headers = headers;
    };
    this.parser[HTTPParser.kOnBody] = (chunk: Buffer, offset: number, length: number) => {
      this.chunks.push(chunk.subarray(offset, offset + length));
    };
    this.parser[HTTPParser.kOnMessageComplete] = () => this.complete();
    this.socket.on('data', (data: Buffer) => {
      const r = this.parser.execute(data);
      if (r instanceof Error) this.fail(r);
    });
    this.socket.on('error', (err) => this.fail(err));
    this.socket.on('close', () => {
      this.closed = true;
      this.fail(Object.assign(new Error('the server closed the connection'), { code: 'ECONNRESET' }));
    });
  }

  send(bytes: Buffer, options?: CallOptions): Promise<Answer> {
    return new Promise<Answer>((resolve, reject) => {
      const p: Pending = { resolve, reject };
      if (options?.timeoutMs) p.timer = setTimeout(() => this.fail(timeoutError()), options.timeoutMs);
      if (options?.signal) {
        if (options.signal.aborted) {
          reject(Object.assign(new Error('aborted'), { name: 'AbortError' }));
          return;
        }
        p.signal = options.signal;
        p.onAbort = () => this.fail(Object.assign(new Error('aborted'), { name: 'AbortError' }));
        options.signal.addEventListener('abort', p.onAbort, { once: true });
      }
      this.pending = p;
      this.socket.write(bytes);
    });
  }

  private settle(): Pending | undefined {
    const p = this.pending;
    this.pending = undefined;
    if (p?.timer) clearTimeout(p.timer);
    if (p?.onAbort) p.signal!.removeEventListener('abort', p.onAbort);
    return p;
  }

  private complete(): void {
    const p = this.settle();
    const answer: Answer = {
      status: this.status,
      headers: this.headers,
      body: (this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks)).toString('utf8'),
    };
    this.chunks = [];
    if (this.keepAlive) this.release(this);
    else this.destroy();
    p?.resolve(answer);
  }

  /** Fails the request in flight (if any) and drops the connection: its state is unknown. */
  private fail(err: Error): void {
    this.destroy();
    this.settle()?.reject(err);
  }

  destroy(): void {
    this.closed = true;
    if (!this.socket.destroyed) this.socket.destroy();
  }
}

export class HttpJsonClient extends RestJsonClient {
  private readonly host: string;
  private readonly port: number;
  /** Host header: host and port as the URL gave them (IPv6 in brackets). */
  private readonly authority: string;
  /** The base URL's path (a server behind a path prefix), without the trailing slash. */
  private readonly prefix: string;
  private readonly idle: Connection[] = [];
  private readonly open = new Set<Connection>();
  private readonly requests = new WeakMap<ClientRequest, Buffer>();

  constructor(baseUrl: string) {
    super(baseUrl);
    const url = new URL(baseUrl);
    if (url.protocol !== 'http:') {
      throw new Error(`inferd bench speaks plain HTTP for REST; got ${url.protocol}//`);
    }
    this.host = url.hostname.replace(/^\[|\]$/g, '');
    this.port = Number(url.port || 80);
    this.authority = url.host;
    this.prefix = url.pathname.replace(/\/+$/, '');
  }

  /** Request line, headers and body, serialised once per request object (the bench reuses it). */
  private bytesOf(request: ClientRequest, extra?: Record<string, string>): Buffer {
    const cached = extra ? undefined : this.requests.get(request);
    if (cached) return cached;
    const json: Record<string, unknown> = { inputs: request.inputs.map(encodeJsonInput) };
    if (request.id !== undefined) json.id = request.id;
    if (request.parameters) json.parameters = request.parameters;
    if (request.outputs) json.outputs = request.outputs;
    const body = Buffer.from(JSON.stringify(json));
    const path = `${this.prefix}${modelPath(request.modelName, request.modelVersion)}/infer`;
    let head = `POST ${path} HTTP/1.1\r\nHost: ${this.authority}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n`;
    for (const [k, v] of Object.entries(extra ?? {})) head += `${k}: ${v}\r\n`;
    const bytes = Buffer.concat([Buffer.from(`${head}\r\n`, 'latin1'), body]);
    if (!extra) this.requests.set(request, bytes);
    return bytes;
  }

  private connection(): Connection {
    for (let c = this.idle.pop(); c; c = this.idle.pop()) if (!c.closed) return c;
    const c = new Connection(this.host, this.port, (done) => this.idle.push(done));
    this.open.add(c);
    c.socket.once('close', () => this.open.delete(c));
    return c;
  }

  override async infer(request: ClientRequest, options?: CallOptions): Promise<InferenceResponse> {
    const answer = await this.connection().send(this.bytesOf(request, options?.headers), options);
    if (answer.status < 200 || answer.status >= 300) {
      throw errorFromBody(answer.status, answer.body, answer.headers);
    }
    return decodeJsonOutputs(JSON.parse(answer.body));
  }

  override async close(): Promise<void> {
    for (const c of this.open) c.destroy();
    this.idle.length = 0;
  }
}
