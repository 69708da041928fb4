/**
 * gRPC under hostile or careless clients (issue 23): long deadlines are served (finding 8: grpc-js
 * wrapped a 30-day `grpc-timeout` to a past deadline), a stalled unary message is cut (finding 3),
 * connections are capped, a stream that does not read its responses stops being read (backpressure),
 * and ModelReady answers ready=false for an unloaded model as Triton does. Every wait is bounded.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { connect } from 'node:http2';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { GrpcClient } from '../../src/oip-client/grpc.js';
import { encodeInferRequest } from '../../src/protocol/grpc/infer-codec.js';
import type { WireStreamResponse } from '../../src/protocol/grpc/wire-types.js';
import type { RunningServer } from '../../src/server.js';
import { buildModel } from '../../src/training/graph-builder.js';
import { makeFixtureRepository, writeModel } from '../fixtures/repository.js';
import { within } from '../helpers/raw-http.js';
import { startTestServer, TEST_ADMIN_TOKEN } from '../helpers/server.js';
import { bearerMetadata, rawCall } from './grpc-helpers.js';
import { deserialize, frame, rawGrpcCall, serialize, unframe } from './grpc-raw.js';
import { f32 } from './tensors.js';

/** The repository API needs the admin token (docs/access-control.md). */
const admin = (): grpc.Metadata => bearerMetadata(TEST_ADMIN_TOKEN);

const DAY_MS = 86_400_000;

const addRequest = (id: string) =>
  encodeInferRequest(
    { id, modelName: 'add', inputs: [f32('a', [1, 4], [1, 2, 3, 4]), f32('b', [1, 4], [1, 1, 1, 1])] },
    'raw',
  );

/** y = x for FP32 [d0, d1]: responses as large as the requests. */
function echoModel(): Uint8Array {
  return buildModel({
    inputs: [{ name: 'x', type: 'FLOAT', shape: ['d0', 'd1'] }],
    outputs: [{ name: 'y', type: 'FLOAT', shape: ['d0', 'd1'] }],
    nodes: [{ op: 'Identity', inputs: ['x'], outputs: ['y'] }],
  });
}

describe('gRPC limits', () => {
  let server: RunningServer;
  let client: GrpcClient;
  let repo: string;

  before(async () => {
    repo = makeFixtureRepository({ slowDepth: 24 });
    // A queue longer than the stream's in-flight bound, so that no request is shed as queue_full.
    writeModel(repo, 'echo', 1, echoModel(), { dynamic_batching: { max_queue_size: 1000 } });
    server = await startTestServer(repo, { headersTimeoutMs: 200, bodyTimeoutMs: 300 });
    client = new GrpcClient(server.grpcUrl);
  });
  after(async () => {
    await client?.close();
    await server?.close();
    rmSync(repo, { recursive: true, force: true });
  });

  it('a 25-30 day grpc-timeout header is served, not expired at once', async () => {
    // 2592000S is what grpc-js's own client sends for a 30-day deadline; 99999999H is the longest
    // value the header allows (8 digits).
    for (const timeout of ['2160000S', '2592000S', '99999999H']) {
      const res = await rawGrpcCall(
        server.grpcUrl,
        'ModelInfer',
        frame(serialize('ModelInfer', addRequest(timeout))),
        {
          headers: { 'grpc-timeout': timeout },
        },
      );
      assert.equal(res.grpcStatus, '0', `${timeout}: ${res.grpcMessage}`);
      assert.equal(res.messages.length, 1);
    }
  });

  it('a 30-day deadline set by a grpc-js client holds for queued requests', async () => {
    const body = encodeInferRequest({ modelName: 'slow', inputs: [f32('x', [1, 1], [3])] }, 'raw');
    const calls = await Promise.all(
      Array.from({ length: 4 }, () =>
        rawCall(client.stub, 'ModelInfer', body, { deadline: Date.now() + 30 * DAY_MS }),
      ),
    );
    assert.deepEqual(
      calls.map((c) => c.err?.code ?? grpc.status.OK),
      [0, 0, 0, 0],
    );
  });

  it('a stalled unary request message gets DEADLINE_EXCEEDED request_timeout', async () => {
    const whole = frame(serialize('ModelInfer', addRequest('stalled')));
    const res = await rawGrpcCall(server.grpcUrl, 'ModelInfer', whole.subarray(0, 20), {
      end: false,
      timeoutMs: 5000,
    });
    assert.equal(res.grpcStatus, String(grpc.status.DEADLINE_EXCEEDED), res.grpcMessage);
    assert.equal(res.errorCode, 'request_timeout');
    assert.match(res.grpcMessage ?? '', /did not arrive within 300 ms/);
    // The server keeps serving.
    assert.equal((await rawCall(client.stub, 'ServerLive', {})).err, null);
  });

  it('ModelReady: an unloaded model is ready=false (as Triton); an unknown model is NOT_FOUND', async () => {
    assert.equal(
      (await rawCall(client.stub, 'RepositoryModelUnload', { model_name: 'upper' }, {}, admin())).err,
      null,
    );
    try {
      const unloaded = await rawCall<{ ready: boolean }>(client.stub, 'ModelReady', { name: 'upper' });
      assert.equal(unloaded.err, null, unloaded.err?.details);
      assert.equal(unloaded.res!.ready, false);
      const unknown = await rawCall(client.stub, 'ModelReady', { name: 'nope' });
      assert.equal(unknown.err?.code, grpc.status.NOT_FOUND);
    } finally {
      await rawCall(client.stub, 'RepositoryModelLoad', { model_name: 'upper' }, {}, admin());
    }
  });

  it('ModelStreamInfer stops reading requests while its responses are not read, then serves them all', async () => {
    const n = 600;
    const processed = () => server.service.statistics('echo')[0]!.inference_stats.success.count;
    const before = processed();
    // A bare HTTP/2 client, so that "not reading" really stops the flow-control window (grpc-js's
    // client reads ahead into its own buffers). 40 MB of requests may queue on our side.
    const session = connect(`http://${server.grpcUrl}`, { maxSessionMemory: 1000 });
    session.on('error', () => undefined);
    try {
      const req = session.request({
        ':method': 'POST',
        ':path': '/inference.GRPCInferenceService/ModelStreamInfer',
        'content-type': 'application/grpc',
        te: 'trailers',
      });
      req.on('error', () => undefined);
      req.pause();
      const x = new Array<number>(16_384).fill(1); // 64 KB per request and per response
      for (let i = 0; i < n; i++) {
        const wire = encodeInferRequest(
          { id: String(i), modelName: 'echo', inputs: [f32('x', [1, x.length], x)] },
          'raw',
        );
        req.write(frame(serialize('ModelStreamInfer', wire)));
      }
      // Wait (bounded) until the server has stopped taking requests: the count holds for a second.
      let last = -1;
      for (let i = 0; i < 60 && processed() !== last; i++) {
        last = processed();
        await new Promise((r) => setTimeout(r, 1000));
      }
      const whileUnread = processed() - before;
      assert.ok(whileUnread < n / 2, `${whileUnread} of ${n} requests computed while no response was read`);
      // Reading resumes: every request is answered, each once.
      const chunks: Buffer[] = [];
      req.on('data', (d: Buffer) => chunks.push(d));
      const closed = new Promise((r) => req.once('close', r));
      req.resume();
      req.end();
      assert.ok(await within(closed, 60_000), 'the stream ends');
      const responses = unframe(Buffer.concat(chunks)).map((m) =>
        deserialize<WireStreamResponse>('ModelStreamInfer', m),
      );
      assert.deepEqual(
        responses.filter((r) => r.error_message).map((r) => r.error_message),
        [],
      );
      assert.equal(new Set(responses.map((r) => r.infer_response!.id)).size, n);
    } finally {
      session.destroy();
    }
  });
});

describe('gRPC connection cap', () => {
  let server: RunningServer;
  let repo: string;
  before(async () => {
    repo = makeFixtureRepository();
    server = await startTestServer(repo, { maxConnections: 1 });
  });
  after(async () => {
    await server?.close();
    rmSync(repo, { recursive: true, force: true });
  });

  it('connections beyond maxConnections are closed; the one within is served', async () => {
    const live = frame(serialize('ServerLive', {}));
    const first = connect(`http://${server.grpcUrl}`);
    first.on('error', () => undefined);
    try {
      await new Promise((r) => first.once('connect', r));
      const second = await rawGrpcCall(server.grpcUrl, 'ServerLive', live, { timeoutMs: 5000 });
      assert.equal(second.grpcStatus, undefined, 'the connection beyond the cap got no answer');
      const req = first.request({
        ':method': 'POST',
        ':path': '/inference.GRPCInferenceService/ServerLive',
        'content-type': 'application/grpc',
        te: 'trailers',
      });
      const status = new Promise<string>((resolve) =>
        req.on('trailers', (t) => resolve(String(t['grpc-status']))),
      );
      req.end(live);
      assert.equal(await status, '0');
    } finally {
      first.destroy();
    }
  });
});
