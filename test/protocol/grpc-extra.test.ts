/**
 * gRPC behaviour beyond the shared conformance cases: health Check/Watch, ModelStreamInfer, raw vs
 * typed contents mirroring, deadlines, error trailers, config/statistics/repository RPCs.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { GrpcClient } from '../../src/oip-client/grpc.js';
import { decodeInferResponse, encodeInferRequest } from '../../src/protocol/grpc/infer-codec.js';
import { loadProtos } from '../../src/protocol/grpc/proto-files.js';
import type { WireInferResponse, WireStreamResponse } from '../../src/protocol/grpc/wire-types.js';
import type { RunningServer } from '../../src/server.js';
import { makeFixtureRepository } from '../fixtures/repository.js';
import { startTestServer, TEST_ADMIN_TOKEN } from '../helpers/server.js';
import { bearerMetadata, openStream, rawCall } from './grpc-helpers.js';
import { f32 } from './tensors.js';

/** The repository and statistics RPCs need the admin token (access policy, auth on). */
const admin = (): grpc.Metadata => bearerMetadata(TEST_ADMIN_TOKEN);

const addRequest = (id: string) => ({
  id,
  modelName: 'add',
  inputs: [f32('a', [1, 4], [1, 2, 3, 4]), f32('b', [1, 4], [1, 1, 1, 1])],
});

describe('gRPC extras', () => {
  let server: RunningServer;
  let client: GrpcClient;
  let repo: string;

  before(async () => {
    repo = makeFixtureRepository({ slowDepth: 24 });
    server = await startTestServer(repo);
    client = new GrpcClient(server.grpcUrl);
  });
  after(async () => {
    await client?.close();
    await server?.close();
    rmSync(repo, { recursive: true, force: true });
  });

  it('health Check: SERVING for the server and the inference service, NOT_FOUND otherwise', async () => {
    for (const service of ['', 'inference.GRPCInferenceService']) {
      const { err, res } = await rawCall<{ status: string }>(client.health, 'Check', { service });
      assert.equal(err, null);
      assert.equal(res!.status, 'SERVING');
    }
    const { err } = await rawCall(client.health, 'Check', { service: 'nope.Service' });
    assert.equal(err?.code, grpc.status.NOT_FOUND);
  });

  it('raw or typed contents in → raw_output_contents out, as Triton answers', async () => {
    const raw = await rawCall<WireInferResponse>(
      client.stub,
      'ModelInfer',
      encodeInferRequest(addRequest('r'), 'raw'),
    );
    assert.equal(raw.err, null);
    assert.equal(raw.res!.raw_output_contents!.length, 2);
    assert.ok(raw.res!.outputs.every((o) => !o.contents));
    const typed = await rawCall<WireInferResponse>(
      client.stub,
      'ModelInfer',
      encodeInferRequest(addRequest('t'), 'typed'),
    );
    assert.equal(typed.err, null);
    assert.equal(typed.res!.raw_output_contents!.length, 2);
    assert.ok(typed.res!.outputs.every((o) => !o.contents));
    const i = typed.res!.outputs.findIndex((o) => o.name === 'sum');
    const bytes = typed.res!.raw_output_contents![i]!;
    const sum = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    assert.deepEqual([...sum], [2, 3, 4, 5]);
  });

  it("raw and typed contents in one request: INVALID_ARGUMENT in Triton's words", async () => {
    const wire = encodeInferRequest(addRequest('mixed'), 'raw');
    wire.inputs[0]!.contents = { fp32_contents: [1, 2, 3, 4] };
    const { err } = await rawCall(client.stub, 'ModelInfer', wire);
    assert.equal(err?.code, grpc.status.INVALID_ARGUMENT);
    assert.deepEqual(err!.metadata.get('inferd-error-code'), ['invalid_request']);
    assert.match(
      err!.details,
      /^contents field must not be specified when using raw_input_contents for 'a' for model 'add'/,
    );
  });

  it('typed contents cannot carry FP16 (no typed field): invalid_input naming raw_input_contents', async () => {
    const wire = encodeInferRequest(
      { modelName: 'identity', inputs: [f32('in_FP16', [1, 2], [1, 2])] },
      'typed',
    );
    wire.inputs[0]!.datatype = 'FP16';
    const { err } = await rawCall(client.stub, 'ModelInfer', wire);
    assert.equal(err?.code, grpc.status.INVALID_ARGUMENT);
    assert.deepEqual(err!.metadata.get('inferd-error-code'), ['invalid_input']);
    assert.match(err!.details, /raw_input_contents/);
  });

  it('errors carry the status, an actionable message and inferd-error-code in the trailers', async () => {
    const { err } = await rawCall(client.stub, 'ModelMetadata', { name: 'nope' });
    assert.equal(err?.code, grpc.status.NOT_FOUND);
    assert.match(err!.details, /nope/);
    assert.deepEqual(err!.metadata.get('inferd-error-code'), ['model_not_found']);
    const missing = await rawCall(client.stub, 'ModelReady', { name: '' });
    assert.equal(missing.err?.code, grpc.status.INVALID_ARGUMENT);
    assert.deepEqual(missing.err!.metadata.get('inferd-error-code'), ['invalid_request']);
  });

  it('a deadline shorter than the slow model gives DEADLINE_EXCEEDED; the server keeps serving', async () => {
    const req = { modelName: 'slow', inputs: [f32('x', [1, 1], [1])] };
    await assert.rejects(
      client.infer(req, { timeoutMs: 20 }),
      (e: Error & { status?: number; code?: string }) => {
        assert.equal(e.status, grpc.status.DEADLINE_EXCEEDED);
        assert.equal(e.code, 'deadline_exceeded');
        return true;
      },
    );
    const ok = await client.infer(addRequest('after'));
    assert.equal(ok.id, 'after');
  });

  it('a cancelled call is dropped from the queue and never computed', async () => {
    const statsOf = async () => {
      const r = await rawCall<{ model_stats: Array<{ execution_count: string }> }>(
        client.stub,
        'ModelStatistics',
        { name: 'slow' },
        {},
        admin(),
      );
      return Number(r.res!.model_stats[0]!.execution_count);
    };
    const req = { modelName: 'slow', inputs: [f32('x', [1, 1], [1])] };
    // One execution at a time, in order: once this call is answered, earlier executions (e.g. the
    // deadline test's, which kept running after its caller gave up) are counted.
    await client.infer(req);
    const before = await statsOf();
    const first = client.infer(req);
    const controller = new AbortController();
    const second = client.infer(req, { signal: controller.signal });
    // The slow model runs one execution at a time: wait until both calls reached the service,
    // so the second is queued behind the first when it is cancelled.
    while (server.service.inflightRequests < 2) await new Promise((r) => setTimeout(r, 2));
    controller.abort();
    await assert.rejects(second, (e: Error & { status?: number }) => e.status === grpc.status.CANCELLED);
    await first;
    while (server.service.inflightRequests > 0) await new Promise((r) => setTimeout(r, 2));
    assert.equal(await statsOf(), before + 1, 'only the first call was computed');
  });

  it('ModelStreamInfer: one response per request, errors per message, the stream survives them', async () => {
    const call = openStream<grpc.ClientDuplexStream<unknown, WireStreamResponse>>(
      client.stub,
      'ModelStreamInfer',
    );
    const got: WireStreamResponse[] = [];
    const done = new Promise<void>((resolve, reject) => {
      call.on('data', (m: WireStreamResponse) => got.push(m));
      call.on('end', resolve);
      call.on('error', reject);
    });
    call.write(encodeInferRequest(addRequest('s1'), 'raw'));
    call.write(encodeInferRequest({ ...addRequest('s2'), modelName: 'nope' }, 'raw'));
    call.write(encodeInferRequest(addRequest('s3'), 'typed'));
    call.end();
    await done;
    const byId = new Map(got.map((m) => [m.infer_response!.id, m]));
    assert.equal(got.length, 3);
    assert.equal(byId.get('s1')!.error_message, '');
    assert.equal(byId.get('s1')!.infer_response!.raw_output_contents!.length, 2);
    assert.match(byId.get('s2')!.error_message, /nope/);
    assert.deepEqual(byId.get('s2')!.infer_response!.parameters!['inferd-error-code'], {
      string_param: 'model_not_found',
      parameter_choice: 'string_param',
    });
    assert.equal(byId.get('s3')!.error_message, '');
    // Typed contents in, raw out (as Triton), on the stream too.
    assert.deepEqual(
      decodeInferResponse(byId.get('s3')!.infer_response!).outputs[0]!.data,
      Float32Array.from([2, 3, 4, 5]),
    );
  });

  it('ModelConfig, ModelStatistics and RepositoryIndex answer in Triton messages', async () => {
    const cfg = await rawCall<{ config: Record<string, unknown> }>(client.stub, 'ModelConfig', {
      name: 'add',
    });
    assert.equal(cfg.err, null);
    assert.equal(cfg.res!.config.max_batch_size, 8);
    assert.equal(
      (cfg.res!.config.dynamic_batching as Record<string, unknown>).max_queue_delay_microseconds,
      '2000',
    );
    const stats = await rawCall<{ model_stats: Array<{ name: string; inference_count: string }> }>(
      client.stub,
      'ModelStatistics',
      { name: 'add' },
      {},
      admin(),
    );
    assert.equal(stats.err, null);
    assert.equal(stats.res!.model_stats[0]!.name, 'add');
    assert.ok(Number(stats.res!.model_stats[0]!.inference_count) > 0);
    const index = await rawCall<{ models: Array<{ name: string; state: string }> }>(
      client.stub,
      'RepositoryIndex',
      { ready: true },
      {},
      admin(),
    );
    assert.ok(index.res!.models.some((m) => m.name === 'add' && m.state === 'READY'));
    const load = await rawCall(
      client.stub,
      'RepositoryModelLoad',
      { model_name: 'add', parameters: { config: { string_param: '{"max_batchsize": 2}' } } },
      {},
      admin(),
    );
    // An override config is read like a config file: a misspelt field is refused by name.
    assert.equal(load.err?.code, grpc.status.INVALID_ARGUMENT);
    assert.match(load.err!.details, /max_batchsize/);
  });

  it('server reflection (v1 and v1alpha): list services, file by symbol, unknown symbol', async () => {
    for (const Svc of loadProtos().reflection) {
      const stub = new Svc(server.grpcUrl, grpc.credentials.createInsecure());
      const call = openStream<grpc.ClientDuplexStream<unknown, Record<string, unknown>>>(
        stub,
        'ServerReflectionInfo',
      );
      const answers: Array<Record<string, unknown>> = [];
      const done = new Promise<void>((resolve, reject) => {
        call.on('data', (m: Record<string, unknown>) => answers.push(m));
        call.on('end', resolve);
        call.on('error', reject);
      });
      call.write({ list_services: '' });
      call.write({ file_containing_symbol: 'inference.GRPCInferenceService.ModelInfer' });
      call.write({ file_by_filename: 'health.proto' });
      call.write({ file_containing_symbol: 'inference.NoSuchThing' });
      call.end();
      await done;
      stub.close();
      const services = (
        answers[0]!.list_services_response as { service: Array<{ name: string }> }
      ).service.map((x) => x.name);
      assert.ok(services.includes('inference.GRPCInferenceService'));
      assert.ok(services.includes('grpc.health.v1.Health'));
      const fileOf = (a: Record<string, unknown>): string => {
        const fds = (a.file_descriptor_response as { file_descriptor_proto: Buffer[] }).file_descriptor_proto;
        return Buffer.from(fds[0]!).toString('latin1');
      };
      assert.match(fileOf(answers[1]!), /GRPCInferenceService/);
      assert.match(fileOf(answers[1]!), /raw_input_contents/);
      assert.match(fileOf(answers[2]!), /grpc\.health\.v1/);
      assert.equal((answers[3]!.error_response as { error_code: number }).error_code, grpc.status.NOT_FOUND);
    }
  });

  it('RepositoryModelUnload then RepositoryModelLoad round-trips a model', async () => {
    const unload = await rawCall(
      client.stub,
      'RepositoryModelUnload',
      { model_name: 'add_noconfig' },
      {},
      admin(),
    );
    assert.equal(unload.err, null);
    const index = await rawCall<{ models: Array<{ name: string; state: string }> }>(
      client.stub,
      'RepositoryIndex',
      { ready: true },
      {},
      admin(),
    );
    assert.ok(!index.res!.models.some((m) => m.name === 'add_noconfig'), 'not READY after unload');
    const load = await rawCall(
      client.stub,
      'RepositoryModelLoad',
      { model_name: 'add_noconfig' },
      {},
      admin(),
    );
    assert.equal(load.err, null);
    assert.equal(await client.modelReady('add_noconfig'), true);
    const missing = await rawCall(client.stub, 'RepositoryModelLoad', { model_name: '' }, {}, admin());
    assert.equal(missing.err?.code, grpc.status.INVALID_ARGUMENT);
  });

  // Last: it drains the server.
  it('health Watch: SERVING, then NOT_SERVING once the server drains, then the watch ends', async () => {
    const call = openStream<grpc.ClientReadableStream<{ status: string }>>(client.health, 'Watch', {
      service: '',
    });
    const statuses: string[] = [];
    const ended = new Promise<void>((resolve) => {
      call.on('data', (m: { status: string }) => {
        statuses.push(m.status);
        if (m.status === 'SERVING') server.service.startDraining();
      });
      call.on('end', resolve);
      call.on('error', () => resolve());
      call.on('data', (m: { status: string }) => {
        if (m.status === 'NOT_SERVING') call.cancel();
      });
    });
    await ended;
    assert.deepEqual(statuses, ['SERVING', 'NOT_SERVING']);
    const drained = await rawCall(client.stub, 'ModelInfer', encodeInferRequest(addRequest('late'), 'raw'));
    assert.equal(drained.err?.code, grpc.status.UNAVAILABLE);
    assert.deepEqual(drained.err!.metadata.get('inferd-error-code'), ['server_draining']);
    assert.deepEqual(drained.err!.metadata.get('retry-after'), ['1']);
  });
});
