/**
 * Steady load through the load balancer: `workers` keep-alive clients (one connection each, like a
 * client pool), each sending POST /v1/models/spam/predict with a real API key, one request at a
 * time, starting one every `intervalMs` at most (0 = as fast as answers come). Every answer is
 * recorded with its time, latency, status, error code, model version and the replica that served
 * it, so the drills can cut the run into phases afterwards.
 */
import { Agent, request } from 'node:http';
import { InferdApiError, InferdClient } from '../../../sdk/index.js';

export interface Sample {
  /** When the request was sent, ms since the load started. */
  at: number;
  ms: number;
  /** HTTP status, or 0 for a network error. */
  status: number;
  /** Error code (body `code`) or network error name. */
  code?: string;
  server?: string;
  version?: string;
}

export interface LoadOptions {
  url: string;
  key: string;
  workers: number;
  intervalMs: number;
}

export class Load {
  readonly samples: Sample[] = [];
  readonly t0 = performance.now();
  private stopped = false;
  private readonly done: Promise<void[]>;

  constructor(private readonly o: LoadOptions) {
    this.done = Promise.all(Array.from({ length: o.workers }, (_, i) => this.worker(i)));
  }

  now(): number {
    return performance.now() - this.t0;
  }

  async stop(): Promise<Sample[]> {
    this.stopped = true;
    await this.done;
    return this.samples;
  }

  private async worker(w: number): Promise<void> {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    for (let n = 0; !this.stopped; n++) {
      const at = this.now();
      const s = await this.one(agent, `worker ${w} message ${n}`);
      this.samples.push({ at, ms: this.now() - at, ...s });
      const wait = this.o.intervalMs - (this.now() - at);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    agent.destroy();
  }

  private one(agent: Agent, text: string): Promise<Omit<Sample, 'at' | 'ms'>> {
    const body = JSON.stringify({ text });
    return new Promise((resolve) => {
      const req = request(
        `${this.o.url}/v1/models/spam/predict`,
        {
          method: 'POST',
          agent,
          headers: {
            authorization: `Bearer ${this.o.key}`,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
          },
          timeout: 30_000,
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (text += d));
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            let code: string | undefined;
            if (status >= 300) code = /"code"\s*:\s*"([^"]+)"/.exec(text)?.[1] ?? 'no code';
            resolve({
              status,
              code,
              server: header(res.headers['x-drill-server']),
              version: header(res.headers['x-model-version']),
            });
          });
          res.on('error', (e: NodeJS.ErrnoException) => resolve({ status: 0, code: e.code ?? e.name }));
        },
      );
      req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
      req.on('error', (e: NodeJS.ErrnoException) => resolve({ status: 0, code: e.code ?? e.name }));
      req.end(body);
    });
  }
}

const header = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

/**
 * The SDK's client (sdk/index.ts) as the caller: it retries 503 and 429 rate_limited with backoff
 * and Retry-After, as customers' code does. A sample is one predict() call, retries included;
 * status 200 = the SDK returned a result (an acknowledged, billable call).
 */
export class SdkLoad {
  readonly samples: Sample[] = [];
  readonly t0 = performance.now();
  private stopped = false;
  private readonly done: Promise<void[]>;

  constructor(o: LoadOptions) {
    this.done = Promise.all(
      Array.from({ length: o.workers }, async (_, w) => {
        const client = new InferdClient({ apiKey: o.key, baseUrl: o.url, timeoutMs: 30_000 });
        for (let n = 0; !this.stopped; n++) {
          const at = this.now();
          try {
            await client.predict('spam', { text: `worker ${w} message ${n}` });
            this.samples.push({ at, ms: this.now() - at, status: 200 });
          } catch (err) {
            // A refusal after the SDK's retries, or a ConnectionError / TimeoutError (status 0).
            const api = err instanceof InferdApiError ? err : undefined;
            const name = (err as Error).name;
            this.samples.push({ at, ms: this.now() - at, status: api?.status ?? 0, code: api?.code ?? name });
          }
          const wait = o.intervalMs - (this.now() - at);
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        }
      }),
    );
  }

  now(): number {
    return performance.now() - this.t0;
  }

  async stop(): Promise<Sample[]> {
    this.stopped = true;
    await this.done;
    return this.samples;
  }
}

/** The q-quantile (0…1) of latencies in ms, nearest rank; NaN for none. */
export function quantile(samples: readonly Sample[], q: number): number {
  if (samples.length === 0) return NaN;
  const v = samples.map((s) => s.ms).sort((a, b) => a - b);
  return v[Math.min(v.length - 1, Math.max(0, Math.ceil(q * v.length) - 1))]!;
}

/** Counts by a key, as "a 12, b 3" (sorted by count). */
export function tally(samples: readonly Sample[], key: (s: Sample) => string | undefined): string {
  const m = new Map<string, number>();
  for (const s of samples) {
    const k = key(s) ?? '-';
    m.set(k, (m.get(k) ?? 0) + 1);
  }
  return [...m.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
}
