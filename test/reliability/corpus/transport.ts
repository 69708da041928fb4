/**
 * Findings 3 (header/body/idle timeouts), 5 (payload limits on the bytes actually read), 6 (client
 * strings bounded in logs and messages) and 8 (waits beyond 2³¹−1 ms). The attack server runs with
 * the short timeouts of settings.ts (TIMEOUTS), so a stalled connection must close within seconds.
 */
import type * as grpc from '@grpc/grpc-js';
import { checkGrpc } from '../lib/answers.js';
import { metadataOf } from '../lib/grpc.js';
import { httpBytes, rawRequest, type RawAnswer } from '../lib/raw-http.js';
import { ANSWER_BOUND_MS, TIMEOUT_SLACK_MS, TIMEOUTS } from '../settings.js';
import { addRequest, headersFor, json, Tally, type CaseContext, type CorpusCase } from './case.js';

/** A stalled or slow connection must end within its timeout: closed, or answered 408/413 with a code. */
function expectClosed(t: Tally, a: RawAnswer & { bodyBytes: number }, boundMs: number): void {
  if (a.hung) {
    t.note('hung');
    t.problem('hung');
    return;
  }
  if (a.status === undefined) {
    t.note(a.closed ? 'closed' : `network ${a.error ?? 'error'}`);
    return;
  }
  t.http({ status: a.status, body: a.body, headers: a.headers, ms: a.ms, hung: false }, [408, 400, 413, 503]);
  t.check(a.ms <= boundMs, 'closed late');
}

function keyHeaders(ctx: CaseContext): Array<[string, string]> {
  return Object.entries(headersFor(ctx, 'key'));
}

/** A multipart body with one file part named `field`, sent with chunked transfer encoding. */
function chunkedMultipart(field: string, bytes: Buffer): { body: Buffer; boundary: string } {
  const boundary = 'reliability-boundary-7d3f';
  const part = Buffer.concat([
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="a.png"\r\n` +
        'Content-Type: image/png\r\n\r\n',
    ),
    bytes,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  const chunks: Buffer[] = [];
  for (let off = 0; off < part.length; off += 64 * 1024) {
    const piece = part.subarray(off, Math.min(part.length, off + 64 * 1024));
    chunks.push(Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from('0\r\n\r\n'));
  return { body: Buffer.concat(chunks), boundary };
}

interface StreamMessage {
  error_message: string;
  infer_response?: { parameters?: Record<string, { string_param?: string }> };
}

/** Sends `requests` on one ModelStreamInfer stream and collects the answers (bounded wait). */
function streamAll(
  client: grpc.Client,
  headers: Record<string, string>,
  requests: unknown[],
): Promise<StreamMessage[] | 'hung'> {
  return new Promise((resolve) => {
    const fn = (
      client as unknown as Record<
        string,
        (md: grpc.Metadata, o: grpc.CallOptions) => grpc.ClientDuplexStream<unknown, StreamMessage>
      >
    ).ModelStreamInfer!;
    const call = fn.call(client, metadataOf(headers), { deadline: new Date(Date.now() + ANSWER_BOUND_MS) });
    const got: StreamMessage[] = [];
    call.on('data', (m: StreamMessage) => got.push(m));
    call.on('error', () => resolve(got.length === requests.length ? got : 'hung'));
    call.on('end', () => resolve(got));
    for (const r of requests) call.write(r);
    call.end();
  });
}

export const TRANSPORT_CASES: CorpusCase[] = [
  {
    id: 'f3-stalled-body',
    finding: '3',
    title: `A body that stalls after 1 KB of a declared 1 MB → closed (or 408 with a code) within the body timeout (${TIMEOUTS.bodyMs} ms) + slack`,
    async run(ctx) {
      const t = new Tally([ctx.repo]);
      const bound = TIMEOUTS.bodyMs + TIMEOUT_SLACK_MS;
      const head = httpBytes(
        'POST',
        '/v2/models/add/infer',
        [['Content-Type', 'application/json'], ['Content-Length', '1000000'], ...keyHeaders(ctx)],
        Buffer.alloc(1000, 0x20),
      );
      expectClosed(t, await rawRequest(ctx.server.httpPort, head, { timeoutMs: bound }), bound);
      return t;
    },
  },
  {
    id: 'f3-slowloris-headers',
    finding: '3',
    profile: 'long',
    title: `Headers trickled one line every 500 ms → closed (or 408) within the header timeout (${TIMEOUTS.headersMs} ms) + slack`,
    async run(ctx) {
      const t = new Tally([ctx.repo]);
      const bound = TIMEOUTS.headersMs + TIMEOUT_SLACK_MS;
      const pieces = Array.from({ length: 60 }, (_, i) => Buffer.from(`X-Slow-${i}: 1\r\n`));
      const a = await rawRequest(
        ctx.server.httpPort,
        Buffer.from('POST /v2/models/add/infer HTTP/1.1\r\nHost: x\r\n'),
        {
          timeoutMs: bound,
          pieces,
          pauseMs: 500,
        },
      );
      expectClosed(t, a, bound);
      return t;
    },
  },
  {
    id: 'f3-idle-connection',
    finding: '3',
    profile: 'long',
    title: 'A connection that never sends a byte → closed within the header/idle timeout + slack',
    async run(ctx) {
      const t = new Tally([ctx.repo]);
      const bound = Math.max(TIMEOUTS.headersMs, TIMEOUTS.idleMs) + TIMEOUT_SLACK_MS;
      expectClosed(t, await rawRequest(ctx.server.httpPort, Buffer.alloc(0), { timeoutMs: bound }), bound);
      return t;
    },
  },
  {
    id: 'f5-multipart-chunked',
    finding: '5',
    title:
      '/v1 multipart upload of 10 MB, chunked (no Content-Length), on the free plan (2 MiB) → 413 payload_too_large',
    async run(ctx) {
      const t = new Tally([ctx.repo]);
      const { body, boundary } = chunkedMultipart('image', Buffer.alloc(10 * 1024 * 1024, 7));
      const head = httpBytes(
        'POST',
        '/v1/models/ocr_echo/predict',
        [
          ['Content-Type', `multipart/form-data; boundary=${boundary}`],
          ['Transfer-Encoding', 'chunked'],
          ...Object.entries(headersFor(ctx, 'free')),
        ],
        body,
      );
      const a = await rawRequest(ctx.server.httpPort, head, { timeoutMs: ANSWER_BOUND_MS });
      t.http(
        {
          status: a.status,
          body: a.body,
          headers: a.headers,
          ms: a.ms,
          hung: a.hung,
          ...(a.error ? { error: a.error } : {}),
        },
        [413],
        ['payload_too_large'],
      );
      return t;
    },
  },
  {
    id: 'f6-grpc-long-names',
    finding: '6',
    title:
      'gRPC ModelInfer ×40 with a 100 KB model_name → NOT_FOUND/INVALID_ARGUMENT with a code; message and log lines bounded',
    async run(ctx) {
      const t = new Tally([ctx.repo]);
      const name = 'm'.repeat(100 * 1024);
      const answers = await Promise.all(
        Array.from({ length: 40 }, () => ctx.grpc('ModelInfer', { model_name: name, inputs: [] })),
      );
      for (const a of answers) t.grpc(a, [5, 3]);
      return t;
    },
  },
  {
    id: 'f6-grpc-stream-long-names',
    finding: '6',
    title:
      'gRPC ModelStreamInfer, 40 messages with a 100 KB model_name → 40 error answers with a code; messages and log lines bounded',
    async run(ctx) {
      const t = new Tally([ctx.repo]);
      const name = 's'.repeat(100 * 1024);
      const got = await streamAll(
        ctx.grpcClient,
        headersFor(ctx, 'key'),
        Array.from({ length: 40 }, (_, i) => ({ model_name: name, id: String(i), inputs: [] })),
      );
      if (got === 'hung') {
        t.note('hung');
        t.problem('hung');
        return t;
      }
      t.check(got.length === 40, `stream answered ${got.length} of 40`);
      for (const m of got) {
        const code = m.infer_response?.parameters?.['inferd-error-code']?.string_param;
        const v = checkGrpc(code ? 5 : 2, m.error_message, code, [ctx.repo]);
        t.note(m.error_message ? `stream error ${code ?? '(no code)'}` : 'stream OK');
        for (const p of v.problems.filter((x) => x !== 'code/status mismatch')) t.problem(p);
      }
      return t;
    },
  },
  {
    id: 'f6-rest-long-name',
    finding: '6',
    title:
      'POST /v2/models/<12,000-character name>/infer ×20 → 404/400 with a code; message and access-log lines bounded',
    async run(ctx) {
      const t = new Tally([ctx.repo]);
      const path = `/v2/models/${'r'.repeat(12_000)}/infer`;
      const rs = await Promise.all(
        Array.from({ length: 20 }, () => ctx.http('POST', path, { body: json(addRequest()) })),
      );
      for (const r of rs) t.http(r, [404, 400, 414, 431]);
      return t;
    },
  },
  {
    id: 'f8-rest-timeout-huge',
    finding: '8',
    title: 'parameters.timeout = 3e12 µs (> 2³¹−1 ms) on `add`, 8 at once → all 200 (not 504 after 1 ms)',
    async run(ctx) {
      const t = new Tally([ctx.repo]);
      const body = json(addRequest({ parameters: { timeout: 3e12 } }));
      const rs = await Promise.all(
        Array.from({ length: 8 }, () => ctx.http('POST', '/v2/models/add/infer', { body })),
      );
      for (const r of rs) t.http(r, [200]);
      return t;
    },
  },
  {
    id: 'f8-grpc-deadline-days',
    finding: '8',
    title: 'gRPC ModelInfer with deadlines of 25 and 30 days → OK (not DEADLINE_EXCEEDED)',
    async run(ctx) {
      const t = new Tally([ctx.repo]);
      const req = {
        model_name: 'add',
        inputs: [
          { name: 'a', datatype: 'FP32', shape: [1, 4], contents: { fp32_contents: [1, 2, 3, 4] } },
          { name: 'b', datatype: 'FP32', shape: [1, 4], contents: { fp32_contents: [0, 0, 0, 0] } },
        ],
      };
      for (const days of [25, 27, 30]) {
        const deadline = new Date(Date.now() + days * 86_400_000);
        t.grpc(await ctx.grpc('ModelInfer', req, { deadline }), [0]);
      }
      return t;
    },
  },
];
