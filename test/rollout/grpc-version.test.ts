/**
 * gRPC answers name the version that computed them in `x-model-version` metadata, initial and
 * trailing, as REST does in its header: canary traffic is visible to gRPC clients without decoding
 * the message. A real grpc-js client, with /v2 open and with customer keys (the gated path, whose
 * trailers also carry the rate-limit headers).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { GrpcClient } from '../../src/oip-client/grpc.js';
import { encodeInferRequest } from '../../src/protocol/grpc/infer-codec.js';
import type { WireInferResponse } from '../../src/protocol/grpc/wire-types.js';
import type { RunningServer } from '../../src/server.js';
import { addModel, writeModel } from '../fixtures/repository.js';
import { adminHeaders, startTestServer } from '../helpers/server.js';
import { bearerMetadata } from '../protocol/grpc-helpers.js';
import { f32 } from '../protocol/tensors.js';

const CONFIG = { max_batch_size: 8, version_policy: { all: {} }, aliases: { production: '1' } };

interface Answer {
  err: grpc.ServiceError | null;
  res?: WireInferResponse;
  initial?: string;
  trailing?: string;
  /** Every trailing metadata key. */
  trailers?: string[];
}

/** One ModelInfer with the call's initial metadata and its status's trailing metadata. */
function modelInfer(client: GrpcClient, id: string, version = '', md = new grpc.Metadata()): Promise<Answer> {
  const wire = encodeInferRequest(
    {
      id,
      modelName: 'm',
      ...(version ? { modelVersion: version } : {}),
      inputs: [f32('a', [1, 4], [1, 2, 3, 4]), f32('b', [1, 4], [1, 1, 1, 1])],
    },
    'raw',
  );
  const stub = client.stub as unknown as Record<
    string,
    (
      req: unknown,
      md: grpc.Metadata,
      cb: (err: grpc.ServiceError | null, res?: WireInferResponse) => void,
    ) => grpc.ClientUnaryCall
  >;
  return new Promise((resolve) => {
    const out: Answer = { err: null };
    let parts = 0;
    const done = (): void => {
      if ((parts += 1) === 2) resolve(out);
    };
    const call = stub['ModelInfer']!.call(client.stub, wire, md, (err, res) => {
      out.err = err;
      out.res = res;
      done();
    });
    call.on('metadata', (m: grpc.Metadata) => (out.initial = m.get('x-model-version')[0] as string));
    call.on('status', (s: grpc.StatusObject) => {
      out.trailing = s.metadata.get('x-model-version')[0] as string | undefined;
      out.trailers = Object.keys(s.metadata.getMap());
      done();
    });
  });
}

describe('gRPC x-model-version metadata', () => {
  let repo: string;
  let open: RunningServer;
  let keyed: RunningServer;

  before(async () => {
    repo = mkdtempSync(join(tmpdir(), 'inferd-grpc-version-'));
    writeModel(repo, 'm', 1, addModel(0), CONFIG);
    writeModel(repo, 'm', 2, addModel(100));
    open = await startTestServer(repo);
    keyed = await startTestServer(repo, { v2Auth: 'keys' });
  });
  after(async () => {
    await open?.close();
    await keyed?.close();
    rmSync(repo, { recursive: true, force: true });
  });

  const post = async (s: RunningServer, path: string, payload: unknown) => {
    const res = await fetch(s.httpUrl + path, {
      method: 'POST',
      headers: adminHeaders({ 'content-type': 'application/json' }),
      body: JSON.stringify(payload),
    });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };
  const sumOf = (res: WireInferResponse): number => {
    const i = res.outputs.findIndex((o) => o.name === 'sum');
    return Buffer.from(res.raw_output_contents![i]!).readFloatLE(0);
  };

  it('a canary split by request id: each answer names its arm in both metadata', async () => {
    const started = await post(open, '/admin/rollouts/m', {
      version: '2',
      percent: 50,
      policy: { p99_slack_ms: 600_000 },
    });
    assert.equal(started.status, 201, JSON.stringify(started.json));
    const client = new GrpcClient(open.grpcUrl);
    try {
      const seen = new Set<string>();
      for (let i = 0; i < 40; i++) {
        const a = await modelInfer(client, `grpc-${i}`);
        assert.equal(a.err, null, a.err?.details);
        assert.equal(a.initial, a.res!.model_version);
        assert.equal(a.trailing, a.res!.model_version);
        // Version 2 adds 100 to sum: the metadata names the version that computed the answer.
        assert.equal(sumOf(a.res!), a.initial === '2' ? 102 : 2);
        seen.add(a.initial!);
      }
      assert.deepEqual([...seen].sort(), ['1', '2']);
      const named = await modelInfer(client, 'named', '1');
      assert.deepEqual([named.initial, named.trailing], ['1', '1']);
      // A failed call answered no version: none is named.
      const failed = await modelInfer(client, 'nope', '7');
      assert.equal(failed.err?.code, grpc.status.NOT_FOUND);
      assert.equal(failed.trailing, undefined);
    } finally {
      await client.close();
    }
  });

  it('with customer keys, beside the rate-limit trailers', async () => {
    assert.equal((await post(keyed, '/admin/rollouts/m', { version: '2', percent: 100 })).status, 201);
    const key = await post(keyed, '/admin/keys', { name: 'grpc-version', plan: 'pro' });
    assert.equal(key.status, 201, JSON.stringify(key.json));
    const client = new GrpcClient(keyed.grpcUrl);
    try {
      const md = () => bearerMetadata(String(key.json.key));
      const canary = await modelInfer(client, 'k1', '', md());
      assert.equal(canary.err, null, canary.err?.details);
      assert.deepEqual([canary.initial, canary.trailing, canary.res!.model_version], ['2', '2', '2']);
      assert.ok(canary.trailers!.includes('x-ratelimit-remaining-requests'), String(canary.trailers));
      const named = await modelInfer(client, 'k2', '1', md());
      assert.deepEqual([named.initial, named.trailing], ['1', '1']);
    } finally {
      await client.close();
    }
  });
});
