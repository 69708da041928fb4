/**
 * inferd SDK: a small typed client for the customer API (/v1). No dependencies beyond the platform's
 * fetch (Node 18+, browsers, Deno, Bun). Retries 429 rate_limited and 503 with backoff, honouring
 * Retry-After, and never retries when the server says `x-should-retry: false` (quota exhausted).
 */
import { ConnectionError, errorFor, TimeoutError, type ProblemBody } from './errors.js';

export * from './errors.js';

export interface ClientOptions {
  apiKey: string;
  /** Default http://127.0.0.1:8080. */
  baseUrl?: string;
  /** Retries after the first attempt for 429 rate_limited / 503 (default 2). */
  maxRetries?: number;
  /** First backoff delay when the server gives no Retry-After (default 250 ms, doubling, max 8 s). */
  backoffMs?: number;
  /** Longest wait honoured from a Retry-After header (default 30 s); longer waits fail at once. */
  maxRetryAfterMs?: number;
  /** Longest wait for one attempt, response body included (default 60 s; OCR of a large page takes seconds). */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/** Per-call options: a caller's AbortSignal ends the call (and its retries) at once. */
export interface CallOptions {
  signal?: AbortSignal;
  /** Overrides the client's timeoutMs for this call. */
  timeoutMs?: number;
}

/** The RateLimit state the server reported on the last response. */
export interface RateLimitInfo {
  limit: number | undefined;
  remaining: number | undefined;
  /** Seconds until the allowance is full again. */
  resetSeconds: number | undefined;
  policy: string | undefined;
}

export interface UsageDay {
  day: string;
  model: string;
  requests: number;
  units: number;
  errors: number;
}

export interface Usage {
  key_id: string;
  plan: string;
  from: string;
  to: string;
  total: { requests: number; units: number };
  days: UsageDay[];
}

export type PredictInput = Record<string, unknown>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class InferdClient {
  private readonly base: string;
  private readonly fetcher: typeof fetch;
  /** RateLimit headers of the most recent response. */
  lastRateLimit: RateLimitInfo | undefined;
  /** x-request-id of the most recent response. */
  lastRequestId: string | undefined;

  constructor(private readonly opts: ClientOptions) {
    if (!opts.apiKey) throw new Error('inferd: an apiKey is required');
    this.base = (opts.baseUrl ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
    this.fetcher = opts.fetch ?? globalThis.fetch;
  }

  /** Runs a model's task endpoint with a JSON input, e.g. predict('spam', { text }). */
  predict<T = Record<string, unknown>>(
    model: string,
    input: PredictInput,
    options: { version?: string } & CallOptions = {},
  ): Promise<T> {
    const path = options.version
      ? `/v1/models/${encodeURIComponent(model)}/versions/${encodeURIComponent(options.version)}/predict`
      : `/v1/models/${encodeURIComponent(model)}/predict`;
    return this.request<T>(
      'POST',
      path,
      () => ({ body: JSON.stringify(input), headers: { 'content-type': 'application/json' } }),
      options,
    );
  }

  /** Uploads a file (e.g. an image for OCR) as multipart/form-data under `field` (default `image`). */
  predictFile<T = Record<string, unknown>>(
    model: string,
    file: Uint8Array | Blob,
    options: { field?: string; filename?: string } & CallOptions = {},
  ): Promise<T> {
    // DOM's BlobPart takes only ArrayBuffer-backed views (TS 5.7+): a view of a SharedArrayBuffer
    // (or a Node Buffer typed as ArrayBufferLike) is copied once.
    const part: Blob | Uint8Array<ArrayBuffer> =
      file instanceof Blob
        ? file
        : file.buffer instanceof ArrayBuffer
          ? (file as Uint8Array<ArrayBuffer>)
          : new Uint8Array(file);
    return this.request<T>(
      'POST',
      `/v1/models/${encodeURIComponent(model)}/predict`,
      () => {
        const form = new FormData();
        form.append(options.field ?? 'image', new Blob([part]), options.filename ?? 'upload');
        return { body: form, headers: {} };
      },
      options,
    );
  }

  /** The key's usage per UTC day and model (default: this month). */
  usage(range: { from?: string; to?: string } = {}, options: CallOptions = {}): Promise<Usage> {
    const q = new URLSearchParams(
      Object.entries(range).filter(([, v]) => v !== undefined) as [string, string][],
    );
    return this.request<Usage>('GET', `/v1/usage${q.size ? `?${q}` : ''}`, () => ({ headers: {} }), options);
  }

  private async request<T>(
    method: string,
    path: string,
    make: () => { body?: string | FormData; headers: Record<string, string> },
    call: CallOptions,
  ): Promise<T> {
    const maxRetries = this.opts.maxRetries ?? 2;
    const timeoutMs = call.timeoutMs ?? this.opts.timeoutMs ?? 60_000;
    for (let attempt = 0; ; attempt++) {
      const { body, headers } = make();
      // A timer of our own, not AbortSignal.timeout: Node unrefs that one, and it is cleared below.
      const timer = new AbortController();
      const timeout = timer.signal;
      const clock = setTimeout(() => timer.abort(), timeoutMs);
      const signal = call.signal ? anySignal([call.signal, timeout]) : timeout;
      let res: Response;
      let text: string;
      try {
        res = await this.fetcher(this.base + path, {
          method,
          body,
          signal,
          headers: { ...headers, authorization: `Bearer ${this.opts.apiKey}`, accept: 'application/json' },
        });
        this.lastRequestId = res.headers.get('x-request-id') ?? undefined;
        this.readRateLimit(res.headers);
        text = await res.text();
      } catch (err) {
        if (call.signal?.aborted) throw call.signal.reason;
        if (timeout.aborted) {
          throw new TimeoutError(`inferd: no complete answer from ${this.base} within ${timeoutMs} ms`, {
            cause: err,
          });
        }
        throw new ConnectionError(`inferd: cannot reach ${this.base}: ${(err as Error).message}`, {
          cause: err,
        });
      } finally {
        clearTimeout(clock);
      }
      if (res.ok) return JSON.parse(text) as T;
      let problem: ProblemBody = {};
      try {
        problem = JSON.parse(text) as ProblemBody;
      } catch {
        problem = { detail: text.slice(0, 200) };
      }
      const retryAfterS = parseRetryAfter(res.headers.get('retry-after'));
      const err = errorFor(res.status, problem, this.lastRequestId, retryAfterS);
      const retryable =
        (res.status === 503 || (res.status === 429 && problem.code !== 'quota_exceeded')) &&
        res.headers.get('x-should-retry') !== 'false';
      if (!retryable || attempt >= maxRetries) throw err;
      const backoff = Math.min(8000, (this.opts.backoffMs ?? 250) * 2 ** attempt) * (0.5 + Math.random() / 2);
      const wait = retryAfterS !== undefined ? retryAfterS * 1000 : backoff;
      if (wait > (this.opts.maxRetryAfterMs ?? 30_000)) throw err;
      await sleep(wait);
    }
  }

  private readRateLimit(h: Headers): void {
    const num = (v: string | null) => (v === null || v === '' ? undefined : Number.parseInt(v, 10));
    if (!h.has('ratelimit') && !h.has('x-ratelimit-limit-requests')) return;
    this.lastRateLimit = {
      limit: num(h.get('x-ratelimit-limit-requests')),
      remaining: num(h.get('x-ratelimit-remaining-requests')),
      resetSeconds: num(h.get('x-ratelimit-reset-requests')),
      policy: h.get('ratelimit-policy') ?? undefined,
    };
  }
}

/** AbortSignal.any where the platform has it (Node 20.3+, current browsers), else a small polyfill. */
function anySignal(signals: AbortSignal[]): AbortSignal {
  const any = (AbortSignal as { any?: (s: AbortSignal[]) => AbortSignal }).any;
  if (any) return any(signals);
  const c = new AbortController();
  for (const s of signals) {
    if (s.aborted) return AbortSignal.abort(s.reason);
    s.addEventListener('abort', () => c.abort(s.reason), { once: true });
  }
  return c.signal;
}

/** Retry-After is delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
function parseRetryAfter(v: string | null): number | undefined {
  if (v === null) return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim());
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, Math.ceil((t - Date.now()) / 1000));
}
