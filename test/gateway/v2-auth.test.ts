/**
 * Issue 23, finding 2: with auth on, /v2 is no longer an open door. The repository and statistics
 * APIs need the admin token on REST and gRPC, and /v2 inference (REST, gRPC unary and streaming)
 * needs a customer key, with the same limits (scope, rate, quota, payload) and the same durable
 * usage record as /v1.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { GrpcClient } from '../../src/oip-client/grpc.js';
import type { PlanSet } from '../../src/gateway/plans.js';
import { encodeInferRequest } from '../../src/protocol/grpc/infer-codec.js';
import type { WireStreamResponse } from '../../src/protocol/grpc/wire-types.js';
import { makeApiRepository } from '../api/fixtures.js';
import { ADMIN_TOKEN, startGatewayServer, type GatewayServer } from '../api/server.js';
import { startTestServer } from '../helpers/server.js';
import { bearerMetadata, openStream, rawCall } from '../protocol/grpc-helpers.js';
import { f32 } from '../protocol/tensors.js';

const PLANS: PlanSet = {
  plans: {
    roomy: {
      requestsPerMinute: 6000,
      burst: 1000,
      concurrentRequests: 8,
      monthlyQuotaUnits: null,
      maxPayloadBytes: 1 << 20,
    },
    // 1 request per minute refill: nothing refills during the test
    tiny: {
      requestsPerMinute: 1,
      burst: 2,
      concurrentRequests: 4,
      monthlyQuotaUnits: null,
      maxPayloadBytes: 400,
    },
    quota: {
      requestsPerMinute: 6000,
      burst: 100,
      concurrentRequests: 4,
      monthlyQuotaUnits: 2,
      maxPayloadBytes: 1 << 20,
    },
  },
  modelWeights: {},
  defaultWeight: 1,
};

const ADD_BODY = JSON.stringify({
  inputs: [
    { name: 'a', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] },
    { name: 'b', shape: [1, 4], datatype: 'FP32', data: [1, 1, 1, 1] },
  ],
});

const addWire = (id: string, model = 'add') =>
  encodeInferRequest(
    { id, modelName: model, inputs: [f32('a', [1, 4], [1, 2, 3, 4]), f32('b', [1, 4], [1, 1, 1, 1])] },
    'raw',
  );

describe('/v2 with auth on', () => {
  let repo: string;
  let g: GatewayServer;
  let grpcClient: GrpcClient;
  before(async () => {
    repo = makeApiRepository();
    g = await startGatewayServer(repo, { plans: PLANS, settings: { v2Auth: 'keys' } });
    grpcClient = new GrpcClient(g.server.grpcUrl);
  });
  after(async () => {
    await grpcClient.close();
    await g.close();
    rmSync(repo, { recursive: true, force: true });
  });

  const infer = (headers: Record<string, string>, model = 'add', body: RequestInit['body'] = ADD_BODY) =>
    fetch(`${g.url}/v2/models/${model}/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
      duplex: 'half',
    } as RequestInit);
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const codeOf = async (r: Response) => ((await r.json()) as { code: string }).code;

  it('the repository API needs the admin token: unload without it is refused and the model keeps serving', async () => {
    const { key } = await g.admin.create({ name: 'customer', plan: 'roomy' });
    const none = await fetch(`${g.url}/v2/repository/models/spam/unload`, { method: 'POST' });
    assert.equal(none.status, 401);
    assert.equal(await codeOf(none), 'unauthenticated');
    const customer = await fetch(`${g.url}/v2/repository/models/spam/unload`, {
      method: 'POST',
      headers: bearer(key),
    });
    assert.equal(customer.status, 403, 'a customer key is not the admin token');
    assert.equal(await codeOf(customer), 'forbidden');
    assert.equal((await fetch(`${g.url}/v2/models/spam/ready`)).status, 200, 'spam still loaded');
    const index = await fetch(`${g.url}/v2/repository/index`, { method: 'POST' });
    assert.equal(index.status, 401);
    const stats = await fetch(`${g.url}/v2/models/stats`);
    assert.equal(stats.status, 401);

    const asAdmin = await fetch(`${g.url}/v2/repository/models/spam/unload`, {
      method: 'POST',
      headers: bearer(ADMIN_TOKEN),
    });
    assert.equal(asAdmin.status, 200);
    assert.equal((await fetch(`${g.url}/v2/models/spam/ready`)).status, 503);
    const load = await fetch(`${g.url}/v2/repository/models/spam/load`, {
      method: 'POST',
      headers: bearer(ADMIN_TOKEN),
    });
    assert.equal(load.status, 200);
    assert.equal((await fetch(`${g.url}/v2/models/stats`, { headers: bearer(ADMIN_TOKEN) })).status, 200);
  });

  it('gRPC RepositoryModelUnload, RepositoryIndex and ModelStatistics need the admin token', async () => {
    const { key } = await g.admin.create({ name: 'grpc customer', plan: 'roomy' });
    const none = await rawCall(grpcClient.stub, 'RepositoryModelUnload', { model_name: 'spam' });
    assert.equal(none.err?.code, grpc.status.UNAUTHENTICATED);
    const customer = await rawCall(
      grpcClient.stub,
      'RepositoryModelUnload',
      { model_name: 'spam' },
      {},
      bearerMetadata(key),
    );
    assert.equal(customer.err?.code, grpc.status.PERMISSION_DENIED);
    assert.equal(await grpcClient.modelReady('spam'), true, 'spam still loaded');
    for (const m of ['RepositoryIndex', 'ModelStatistics']) {
      const r = await rawCall(grpcClient.stub, m, {});
      assert.equal(r.err?.code, grpc.status.UNAUTHENTICATED, m);
      const ok = await rawCall(grpcClient.stub, m, {}, {}, bearerMetadata(ADMIN_TOKEN));
      assert.equal(ok.err, null, m);
    }
  });

  it('REST infer needs a key; with one it answers with rate-limit headers and a usage record already stored', async () => {
    const none = await infer({});
    assert.equal(none.status, 401);
    assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer/);
    assert.deepEqual(Object.keys((await none.json()) as object).sort(), ['code', 'error']);
    const bad = await infer(bearer('ik_live_nope'));
    assert.equal(await codeOf(bad), 'invalid_api_key');

    const { key, record } = await g.admin.create({ name: 'v2 rest', plan: 'roomy' });
    const ok = await infer(bearer(key));
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('ratelimit-policy'), '"default";q=6000;w=60');
    assert.match(ok.headers.get('ratelimit') ?? '', /^"default";r=999;t=\d+$/);
    assert.equal(ok.headers.get('x-ratelimit-remaining-requests'), '999');
    const body = (await ok.json()) as { outputs: Array<{ name: string; data: number[] }> };
    assert.deepEqual(body.outputs.find((o) => o.name === 'sum')!.data, [2, 3, 4, 5]);
    // Recorded before the answer was sent: no wait needed.
    const records = await g.store.usageRecords({ keyId: record.id });
    assert.deepEqual(
      records.map((r) => [r.model, r.version, r.status, r.units]),
      [['add', '1', 200, 1]],
    );
    // A failed call is recorded with 0 units; an unknown model is not recorded at all.
    const wrong = await infer(bearer(key), 'add', '{"inputs": []}');
    assert.equal(wrong.status, 400);
    assert.ok(wrong.headers.get('ratelimit'), 'rate-limit headers on errors too');
    const unknown = await infer(bearer(key), 'nope');
    assert.equal(unknown.status, 404);
    const after = await g.store.usageRecords({ keyId: record.id });
    assert.deepEqual(
      after.map((r) => [r.model, r.status, r.units]),
      [
        ['add', 200, 1],
        ['add', 400, 0],
      ],
    );
  });

  it('REST infer: scope, rate limit, quota and the payload limit (declared and chunked) as on /v1', async () => {
    const scoped = await g.admin.create({ name: 'scoped', plan: 'roomy', models: ['spam'] });
    const outside = await infer(bearer(scoped.key));
    assert.equal(outside.status, 403);
    assert.equal(await codeOf(outside), 'forbidden');

    const tiny = await g.admin.create({ name: 'tiny', plan: 'tiny' });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await infer(bearer(tiny.key));
      statuses.push(r.status);
      if (r.status === 429) {
        assert.equal(await codeOf(r), 'rate_limited');
        assert.ok(Number(r.headers.get('retry-after')) >= 1);
        assert.equal(r.headers.get('x-ratelimit-remaining-requests'), '0');
      } else await r.arrayBuffer();
    }
    assert.deepEqual(statuses, [200, 200, 429]);

    const q = await g.admin.create({ name: 'quota', plan: 'quota' });
    assert.equal((await infer(bearer(q.key))).status, 200);
    assert.equal((await infer(bearer(q.key))).status, 200);
    const over = await infer(bearer(q.key));
    assert.equal(over.status, 429);
    assert.equal(over.headers.get('x-should-retry'), 'false');
    assert.equal(await codeOf(over), 'quota_exceeded');

    const small = await g.admin.create({ name: 'small', plan: 'tiny' });
    const big = JSON.stringify({ inputs: [], pad: 'x'.repeat(1000) });
    const declared = await infer(bearer(small.key), 'add', big);
    assert.equal(declared.status, 413);
    assert.equal(await codeOf(declared), 'payload_too_large');
    const chunked = await infer(
      bearer(small.key),
      'add',
      new ReadableStream({
        start(c) {
          c.enqueue(new TextEncoder().encode(big));
          c.close();
        },
      }),
    );
    assert.equal(chunked.status, 413);
    assert.match(((await chunked.json()) as { error: string }).error, /plan tiny's limit of 400 bytes/);
  });

  it('gRPC ModelInfer needs a key; with one it answers with rate-limit trailers and is metered', async () => {
    const none = await rawCall(grpcClient.stub, 'ModelInfer', addWire('g0'));
    assert.equal(none.err?.code, grpc.status.UNAUTHENTICATED);
    assert.equal(none.err?.metadata.get('inferd-error-code')[0], 'unauthenticated');

    const { key, record } = await g.admin.create({ name: 'v2 grpc', plan: 'roomy' });
    const trailers = await new Promise<grpc.Metadata>((resolve, reject) => {
      const fn = (grpcClient.stub as unknown as Record<string, (...a: unknown[]) => grpc.ClientUnaryCall>)
        .ModelInfer!;
      const call = fn.call(grpcClient.stub, addWire('g1'), bearerMetadata(key), {}, (err: unknown) => {
        if (err) reject(err as Error);
      });
      call.on('status', (s: grpc.StatusObject) => resolve(s.metadata));
    });
    assert.equal(trailers.get('ratelimit-policy')[0], '"default";q=6000;w=60');
    assert.equal(trailers.get('x-ratelimit-remaining-requests')[0], '999');
    const records = await g.store.usageRecords({ keyId: record.id });
    assert.deepEqual(
      records.map((r) => [r.model, r.status, r.units]),
      [['add', 200, 1]],
    );

    const scoped = await g.admin.create({ name: 'grpc scoped', plan: 'roomy', models: ['spam'] });
    const outside = await rawCall(
      grpcClient.stub,
      'ModelInfer',
      addWire('g2'),
      {},
      bearerMetadata(scoped.key),
    );
    assert.equal(outside.err?.code, grpc.status.PERMISSION_DENIED);

    const small = await g.admin.create({ name: 'grpc small', plan: 'tiny' });
    const big = addWire('g3');
    big.raw_input_contents = big.raw_input_contents!.map(() => Buffer.alloc(1024));
    const tooBig = await rawCall(grpcClient.stub, 'ModelInfer', big, {}, bearerMetadata(small.key));
    assert.equal(tooBig.err?.code, grpc.status.RESOURCE_EXHAUSTED);
    assert.equal(tooBig.err?.metadata.get('inferd-error-code')[0], 'payload_too_large');
  });

  it('gRPC ModelStreamInfer runs the gate per message: limits per request, one record each', async () => {
    const { key, record } = await g.admin.create({ name: 'stream', plan: 'tiny' });
    const call = openStream<grpc.ClientDuplexStream<unknown, WireStreamResponse>>(
      grpcClient.stub,
      'ModelStreamInfer',
      bearerMetadata(key),
    );
    const answers: WireStreamResponse[] = [];
    await new Promise<void>((resolve, reject) => {
      call.on('data', (m: WireStreamResponse) => answers.push(m));
      call.on('end', resolve);
      call.on('error', reject);
      for (const id of ['s1', 's2', 's3']) call.write(addWire(id));
      call.end();
    });
    const codes = answers
      .map((a) => [
        a.infer_response!.id,
        a.infer_response!.parameters?.['inferd-error-code']?.string_param ?? 'ok',
      ])
      .sort();
    // The plan's burst is 2: two requests pass, the third is refused, the stream goes on.
    assert.equal(codes.filter(([, c]) => c === 'ok').length, 2, JSON.stringify(codes));
    assert.equal(codes.filter(([, c]) => c === 'rate_limited').length, 1, JSON.stringify(codes));
    const records = await g.store.usageRecords({ keyId: record.id });
    assert.deepEqual(records.map((r) => r.status).sort(), [200, 200, 429]);
  });

  it('v2Auth off keeps /v2 inference open while the repository API still needs the admin token', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'inferd-v2off-'));
    const s = await startTestServer(repo, { auth: 'on', v2Auth: 'off', dataDir });
    try {
      const r = await fetch(`${s.httpUrl}/v2/models/add/infer`, { method: 'POST', body: ADD_BODY });
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('ratelimit'), null);
      const unload = await fetch(`${s.httpUrl}/v2/repository/models/add/unload`, { method: 'POST' });
      assert.equal(unload.status, 401);
    } finally {
      await s.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('auth on without an admin token: repository calls are refused, saying how to enable them', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'inferd-notoken-'));
    const s = await startTestServer(repo, { auth: 'on', adminToken: undefined, dataDir });
    const client = new GrpcClient(s.grpcUrl);
    try {
      const r = await fetch(`${s.httpUrl}/v2/repository/models/add/unload`, {
        method: 'POST',
        headers: bearer(ADMIN_TOKEN),
      });
      assert.equal(r.status, 403);
      const body = (await r.json()) as { code: string; error: string };
      assert.equal(body.code, 'forbidden');
      assert.match(body.error, /--admin-token/);
      const u = await rawCall(client.stub, 'RepositoryModelUnload', { model_name: 'add' });
      assert.equal(u.err?.code, grpc.status.PERMISSION_DENIED);
      assert.match(u.err?.details ?? '', /INFERD_ADMIN_TOKEN/);
      assert.equal((await fetch(`${s.httpUrl}/v2/models/add/ready`)).status, 200);
    } finally {
      await client.close();
      await s.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
