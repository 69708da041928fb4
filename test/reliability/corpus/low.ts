/**
 * The low findings: internals in errors, NaN/Infinity written as JSON null, fastify-shaped
 * error bodies, client-caused 504s logged as faults, gRPC ModelReady on an unloaded model, lenient
 * base64, ModelStreamInfer ignoring write backpressure, and one the fuzzer found (an empty
 * `outputs` list). (Image-library text is in
 * pipelines.ts; 503s without a code during shutdown are checked by parts/crash.ts.)
 */
import type * as grpc from '@grpc/grpc-js';
import { leakedInternals } from '../lib/answers.js';
import { inferenceClient, metadataOf } from '../lib/grpc.js';
import { stallProxy } from '../lib/stall-proxy.js';
import { SIZES } from '../settings.js';
import { addRequest, headersFor, json, Tally, type CaseContext, type CorpusCase } from './case.js';

/**
 * Answers a stream may compute for a client that reads none of them: a Node object-mode stream
 * buffers 16 before write() says stop, plus what is in flight. The build before issue 23 computed
 * every request it was sent.
 */
const MAX_UNREAD_ANSWERS = 48;

/** Successful executions of `amplify` so far (statistics extension; admin token with auth on). */
async function computed(ctx: CaseContext): Promise<number> {
  const r = await ctx.http('GET', '/v2/models/amplify/stats', { as: 'admin' });
  const body = JSON.parse(r.body.toString() || '{}') as {
    model_stats?: Array<{ inference_stats?: { success?: { count?: number } } }>;
  };
  return body.model_stats?.[0]?.inference_stats?.success?.count ?? 0;
}

export const LOW_CASES: CorpusCase[] = [
  {
    id: 'low-index-paths',
    finding: 'low',
    title:
      'POST /v2/repository/index (admin) with broken models → 200; load errors name no absolute server path',
    async run(ctx) {
      const t = new Tally([ctx.repo]);
      const r = await ctx.http('POST', '/v2/repository/index', { as: 'admin' });
      t.http(r, [200]);
      const leak = leakedInternals(r.body.toString(), [ctx.repo]);
      t.check(leak === undefined, `leaked ${leak ?? ''} in the index`);
      return t;
    },
  },
  {
    id: 'low-nan-json',
    finding: 'low',
    title: 'FP32 outputs NaN, Infinity, -Infinity → JSON strings "NaN", "Infinity", "-Infinity" (not null)',
    async run(ctx) {
      const t = new Tally([ctx.repo]);
      const req = addRequest();
      (req.inputs as Array<{ data: unknown[] }>)[0]!.data = ['NaN', 'Infinity', '-Infinity', 1];
      const body = t.http(await ctx.http('POST', '/v2/models/add/infer', { body: json(req) }), [200]);
      const sum = (body?.outputs as Array<{ name: string; data: unknown[] }> | undefined)?.find(
        (o) => o.name === 'sum',
      );
      t.check(
        JSON.stringify(sum?.data) === JSON.stringify(['NaN', 'Infinity', '-Infinity', 1]),
        'non-finite output not written as a string',
      );
      return t;
    },
  },
  {
    id: 'low-fastify-bad-url',
    finding: 'low',
    title:
      'GET /v2/models/%zz/ready, POST /v1/models/%zz/predict (bad escapes) and a /v1 model name over 100 characters → 4xx with a catalogued code, no FST_ERR/statusCode',
    async run(ctx) {
      const t = new Tally([ctx.repo]);
      t.http(await ctx.http('GET', '/v2/models/%zz/ready'), [400]);
      t.http(await ctx.http('POST', '/v1/models/%zz/predict', { body: '{}' }), [400]);
      const long = await ctx.http('POST', `/v1/models/${'z'.repeat(2000)}/predict`, { body: '{}' });
      t.http(long, [400, 404, 414]);
      return t;
    },
  },
  {
    id: 'low-504-not-a-fault',
    finding: 'low',
    title:
      'parameters.timeout = 1 µs on `slow`, 8 at once → 504 deadline_exceeded (or 200), logged without a stack trace',
    async run(ctx) {
      const t = new Tally([ctx.repo]);
      const body = json({
        inputs: [{ name: 'x', shape: [1, 1], datatype: 'FP32', data: [1] }],
        parameters: { timeout: 1 },
      });
      const rs = await Promise.all(
        Array.from({ length: 8 }, () => ctx.http('POST', '/v2/models/slow/infer', { body })),
      );
      for (const r of rs) t.http(r, [200, 504], ['deadline_exceeded']);
      return t;
    },
  },
  {
    id: 'low-grpc-modelready-unloaded',
    finding: 'low',
    title: 'gRPC ModelReady on an unloaded model → OK with ready: false (Triton), not UNAVAILABLE',
    async run(ctx) {
      const t = new Tally([ctx.repo]);
      t.http(await ctx.http('POST', '/v2/repository/models/add_noconfig/unload', { as: 'admin' }), [200]);
      try {
        const a = await ctx.grpc('ModelReady', { name: 'add_noconfig' });
        t.grpc(a, [0]);
        t.check(
          a.status !== 0 || (a.response as { ready?: boolean }).ready === false,
          'unloaded model ready',
        );
      } finally {
        await ctx.http('POST', '/v2/repository/models/add_noconfig/load', { as: 'admin' });
      }
      return t;
    },
  },
  {
    id: 'low-base64-lenient',
    finding: 'low',
    title: 'BYTES with content_type base64 and data "!!!" → 400 invalid_input (not 200)',
    async run(ctx) {
      const t = new Tally([ctx.repo]);
      const body = json({
        inputs: [
          {
            name: 'text',
            shape: [1],
            datatype: 'BYTES',
            data: ['!!!'],
            parameters: { content_type: 'base64' },
          },
        ],
      });
      t.http(await ctx.http('POST', '/v2/models/upper/infer', { body }), [400], ['invalid_input']);
      return t;
    },
  },
  {
    id: 'new-empty-outputs',
    finding: 'new',
    title:
      'An infer request with `outputs: []` → 200 with every output (Triton) or 400 with a code; not 500 "fetches cannot be an empty array" (found by the fuzzer)',
    async run(ctx) {
      const t = new Tally([ctx.repo]);
      const r = await ctx.http('POST', '/v2/models/add/infer', { body: json(addRequest({ outputs: [] })) });
      t.http(r, [200, 400]);
      return t;
    },
  },
  {
    id: 'low-stream-backpressure',
    finding: 'low',
    title: `ModelStreamInfer from a client that stops reading (TCP level), then sends ${SIZES.streamBackpressureRequests} requests of 4 MiB answers, one every 25 ms → at most ${MAX_UNREAD_ANSWERS} computed (the server stops reading)`,
    async run(ctx) {
      const t = new Tally([ctx.repo]);
      const proxy = await stallProxy(ctx.server.grpcPort);
      const client = inferenceClient(proxy.address);
      try {
        const fn = (
          client as unknown as Record<
            string,
            (md: grpc.Metadata) => grpc.ClientDuplexStream<unknown, unknown>
          >
        ).ModelStreamInfer!;
        // x [4, 1] → y [4, 262144]: 16 bytes in, 4 MiB out (raw contents: no per-float encoding).
        const request = (id: string): unknown => ({
          model_name: 'amplify',
          id,
          inputs: [{ name: 'x', datatype: 'FP32', shape: [4, 1] }],
          raw_input_contents: [Buffer.from(new Float32Array([1, 2, 3, 4]).buffer)],
        });
        // Warm-up, read normally: the model's arenas and the stream machinery exist before measuring.
        const warm = fn.call(client, metadataOf(headersFor(ctx, 'key')));
        await new Promise<void>((resolve) => {
          warm.on('data', () => undefined);
          warm.on('end', resolve);
          warm.on('error', () => resolve());
          for (let i = 0; i < 4; i++) warm.write(request(`w${i}`));
          warm.end();
        });
        const before = ctx.server.rssMiB() ?? 0;
        const computed0 = await computed(ctx);
        let peak = before;
        const call = fn.call(client, metadataOf(headersFor(ctx, 'key')));
        call.on('error', () => undefined);
        call.on('data', () => undefined);
        // The client stops reading first, then sends one request every 25 ms: a server that
        // respects backpressure stops reading requests once its answers cannot be written.
        proxy.stall();
        for (let i = 0; i < SIZES.streamBackpressureRequests; i++) {
          call.write(request(String(i)));
          await new Promise((r) => setTimeout(r, 25));
          peak = Math.max(peak, ctx.server.rssMiB() ?? 0);
        }
        for (let i = 0; i < 4; i++) {
          await new Promise((r) => setTimeout(r, 250));
          peak = Math.max(peak, ctx.server.rssMiB() ?? 0);
        }
        const answered = (await computed(ctx)) - computed0;
        call.cancel();
        t.note(
          `${answered} of ${SIZES.streamBackpressureRequests} computed, RSS +${(peak - before).toFixed(0)} MiB`,
        );
        t.check(answered <= MAX_UNREAD_ANSWERS, 'stream ignores backpressure');
      } finally {
        client.close();
        await proxy.close();
      }
      return t;
    },
  },
];
