/** SDK retry policy (against a scripted fetch) and the examples/ run against a real local server. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import {
  InferdClient,
  QuotaExceededError,
  RateLimitError,
  ServerError,
  TimeoutError,
} from '../../sdk/index.js';
import { makeApiRepository } from './fixtures.js';
import { startGatewayServer, type GatewayServer } from './server.js';

const run = promisify(execFile);

function scripted(responses: Array<{ status: number; headers?: Record<string, string>; body: unknown }>) {
  const calls: number[] = [];
  const fetcher = (async () => {
    calls.push(Date.now());
    const r = responses.shift();
    if (!r) throw new Error('no more scripted responses');
    return new Response(JSON.stringify(r.body), { status: r.status, headers: r.headers });
  }) as typeof fetch;
  return { fetcher, calls };
}

const problem = (code: string, status: number) => ({ code, status, detail: code, request_id: `req-${code}` });

describe('SDK retries', () => {
  it('429 rate_limited is retried after Retry-After, then succeeds', async () => {
    const s = scripted([
      { status: 429, headers: { 'retry-after': '1' }, body: problem('rate_limited', 429) },
      { status: 200, body: { label: 'ham', score: 0.1 } },
    ]);
    const c = new InferdClient({ apiKey: 'k', fetch: s.fetcher, maxRetries: 2 });
    assert.deepEqual(await c.predict('spam', { text: 'x' }), { label: 'ham', score: 0.1 });
    assert.equal(s.calls.length, 2);
    assert.ok(s.calls[1]! - s.calls[0]! >= 950, 'waited for Retry-After');
  });

  it('503 is retried with backoff; gives up after maxRetries with a typed error', async () => {
    const s = scripted([
      { status: 503, body: problem('queue_full', 503) },
      { status: 503, body: problem('queue_full', 503) },
      { status: 503, body: problem('queue_full', 503) },
    ]);
    const c = new InferdClient({ apiKey: 'k', fetch: s.fetcher, maxRetries: 2, backoffMs: 1 });
    await assert.rejects(c.predict('spam', { text: 'x' }), (e: unknown) => {
      assert.ok(e instanceof ServerError);
      assert.deepEqual([e.code, e.status, e.requestId], ['queue_full', 503, 'req-queue_full']);
      return true;
    });
    assert.equal(s.calls.length, 3);
  });

  it('quota_exceeded / x-should-retry: false is never retried', async () => {
    const s = scripted([
      { status: 429, headers: { 'x-should-retry': 'false' }, body: problem('quota_exceeded', 429) },
      { status: 200, body: {} },
    ]);
    const c = new InferdClient({ apiKey: 'k', fetch: s.fetcher, maxRetries: 5, backoffMs: 1 });
    await assert.rejects(c.predict('spam', { text: 'x' }), QuotaExceededError);
    assert.equal(s.calls.length, 1);
  });

  it('a Retry-After beyond maxRetryAfterMs fails at once', async () => {
    const s = scripted([
      { status: 429, headers: { 'retry-after': '120' }, body: problem('rate_limited', 429) },
    ]);
    const c = new InferdClient({ apiKey: 'k', fetch: s.fetcher, maxRetries: 3 });
    await assert.rejects(
      c.predict('spam', { text: 'x' }),
      (e: unknown) => e instanceof RateLimitError && e.retryAfter === 120,
    );
    assert.equal(s.calls.length, 1);
  });
});

describe('SDK timeouts and platforms', () => {
  /** A fetch that answers only when aborted, as a stalled server would. */
  const stalled = (() => {
    const calls: number[] = [];
    const fetcher = ((_url: string, init?: RequestInit) =>
      new Promise((_resolve, reject) => {
        calls.push(Date.now());
        init?.signal?.addEventListener('abort', () => reject(init.signal!.reason));
      })) as typeof fetch;
    return { fetcher, calls };
  })();

  it('an attempt with no answer within timeoutMs fails with TimeoutError (not retried)', async () => {
    const c = new InferdClient({ apiKey: 'k', fetch: stalled.fetcher, timeoutMs: 50, maxRetries: 2 });
    const before = stalled.calls.length;
    await assert.rejects(c.predict('spam', { text: 'x' }), (e: unknown) => {
      assert.ok(e instanceof TimeoutError);
      assert.equal(e.code, 'timeout');
      return true;
    });
    assert.equal(stalled.calls.length - before, 1);
  });

  it("a caller's AbortSignal ends the call with the caller's reason", async () => {
    const c = new InferdClient({ apiKey: 'k', fetch: stalled.fetcher });
    const ac = new AbortController();
    const p = c.predictFile('ocr', new Uint8Array([1, 2, 3]), { signal: ac.signal });
    ac.abort(new Error('user left'));
    await assert.rejects(p, /user left/);
  });

  it('type-checks in a browser project (DOM lib, no Node types)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'inferd-sdk-dom-'));
    try {
      const cfg = join(dir, 'tsconfig.json');
      writeFileSync(
        cfg,
        JSON.stringify({
          compilerOptions: {
            target: 'ES2022',
            lib: ['ES2022', 'DOM'],
            types: [],
            strict: true,
            noEmit: true,
            module: 'ESNext',
            moduleResolution: 'Bundler',
          },
          files: [resolve('sdk/index.ts')],
        }),
      );
      await run(process.execPath, [resolve('node_modules/typescript/bin/tsc'), '-p', cfg]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('examples/ against a local server', () => {
  let repo: string;
  let g: GatewayServer;
  let key: string;
  before(async () => {
    repo = makeApiRepository();
    g = await startGatewayServer(repo);
    key = (await g.admin.create({ name: 'examples', plan: 'pro' })).key;
  });
  after(async () => {
    await g.close();
    rmSync(repo, { recursive: true, force: true });
  });

  it('examples/spam.js and examples/usage.js run and print results', async () => {
    const env = { ...process.env, INFERD_URL: g.url, INFERD_API_KEY: key };
    const spam = await run(process.execPath, ['dist/examples/spam.js'], { env });
    const lines = spam.stdout.trim().split('\n');
    // The fixture model calls only the exact text "buy now" spam.
    assert.deepEqual(JSON.parse(lines[0]!), { label: 'ham', score: 0.125 });
    assert.deepEqual(JSON.parse(lines[1]!), {
      results: [
        { label: 'ham', score: 0.125 },
        { label: 'spam', score: 0.96875 },
      ],
    });
    assert.match(lines[2]!, /^rate limit: \d+ of 600 left$/);
    const usage = await run(process.execPath, ['dist/examples/usage.js'], { env });
    assert.match(usage.stdout, / spam: 2 requests, 2 units, 0 errors/);
    assert.match(usage.stdout, /total: 2 requests, 2 units/);
  });
});
