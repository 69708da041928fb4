/**
 * Issue 23, finding 1: memory bombs through BYTES. A body of millions of empty BYTES elements (REST
 * JSON, REST binary, gRPC typed contents), or one sent to a model that does not exist, made the
 * server allocate an object per element before any count was checked: out of memory, or a freeze
 * of every request, health checks included.
 *
 * Each case runs against the real CLI in a child process with a small heap (256 MiB, so that the
 * old decoders die within seconds instead of minutes) and a 1 M element bound, while a second
 * client polls /v2/health/live. It must be refused with the right code, liveness must answer
 * every poll, and the process's peak RSS must not grow by more than the bodies themselves.
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import { loadProtos } from '../../src/protocol/grpc/proto-files.js';
import type { WireStreamResponse } from '../../src/protocol/grpc/wire-types.js';
import { makeApiRepository } from '../api/fixtures.js';
import { exited, freePort, spawnServer, type Child } from '../helpers/spawn.js';

/** Enough empty elements to take the old decoders well past a 256 MiB heap (~190 B each). */
const BOMB = 4_000_000;
/** Over the server's bound (INFERD_MAX_REQUEST_ELEMENTS below) for a model without one. */
const OVER_LIMIT = 1_500_000;
const LIMIT = 1_000_000;

/** Peak resident set of a process so far (VmHWM), in MiB. */
function peakRssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

/** Polls liveness until stopped; every poll must answer 200 (10 s each at most). */
function pollLiveness(url: string): () => Promise<{ polls: number; failures: string[] }> {
  let stop = false;
  const failures: string[] = [];
  let polls = 0;
  const loop = (async () => {
    while (!stop) {
      try {
        const res = await fetch(url + '/v2/health/live', { signal: AbortSignal.timeout(10_000) });
        if (res.status !== 200) failures.push(`status ${res.status}`);
      } catch (err) {
        failures.push(String(err));
      }
      polls += 1;
      await new Promise((r) => setTimeout(r, 25));
    }
  })();
  return async () => {
    stop = true;
    await loop;
    return { polls, failures };
  };
}

// Protobuf wire encoding, by hand: the point is a message no client library would build.
function varint(n: number): Buffer {
  const out: number[] = [];
  while (n > 127) {
    out.push((n & 127) | 128);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
}
const field = (tag: number, payload: Buffer): Buffer =>
  Buffer.concat([varint(tag), varint(payload.length), payload]);

/** ModelInferRequest{model_name, inputs: [{name, datatype BYTES, shape, contents: n empty bytes_contents}]}. */
function bytesContentsRequest(model: string, input: string, shape: number[], n: number): Buffer {
  const contents = Buffer.alloc(2 * n);
  for (let i = 0; i < n; i++) contents[2 * i] = 0x42; // field 8, LEN; length 0
  const tensor = Buffer.concat([
    field(0x0a, Buffer.from(input)),
    field(0x12, Buffer.from('BYTES')),
    field(0x1a, Buffer.concat(shape.map(varint))),
    field(0x2a, contents),
  ]);
  return Buffer.concat([field(0x0a, Buffer.from(model)), field(0x2a, tensor)]);
}

function modelInfer(target: string, message: Buffer): Promise<grpc.ServiceError | null> {
  const client = new grpc.Client(target, grpc.credentials.createInsecure());
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      '/inference.GRPCInferenceService/ModelInfer',
      (b: Buffer) => b,
      (b: Buffer) => b,
      message,
      { deadline: Date.now() + 120_000 },
      (err) => {
        client.close();
        resolve(err);
      },
    );
  });
}

/** One message on a ModelStreamInfer stream, then half-close; resolves with the one response. */
function streamInfer(target: string, message: Buffer): Promise<WireStreamResponse> {
  const client = new grpc.Client(target, grpc.credentials.createInsecure());
  const method = loadProtos().inference.service.ModelStreamInfer!;
  return new Promise((resolve, reject) => {
    const call = client.makeBidiStreamRequest(
      method.path,
      (b: Buffer) => b,
      (b: Buffer) => method.responseDeserialize(b) as WireStreamResponse,
      { deadline: Date.now() + 120_000 },
    );
    call.on('data', (res: WireStreamResponse) => {
      resolve(res);
      client.close();
    });
    call.on('error', reject);
    call.write(message);
    call.end();
  });
}

const emptyStrings = (n: number): string => '""' + ',""'.repeat(n - 1);

describe('memory bombs through BYTES are refused before they are decoded (issue 23)', () => {
  let repo: string;
  let server: Child;
  let grpcTarget: string;
  before(async () => {
    repo = makeApiRepository();
    const grpcPort = await freePort();
    grpcTarget = `127.0.0.1:${grpcPort}`;
    server = await spawnServer(
      ['--model-repository', repo, '--auth', 'off', '--grpc-port', String(grpcPort)],
      { NODE_OPTIONS: '--max-old-space-size=256', INFERD_MAX_REQUEST_ELEMENTS: String(LIMIT) },
    );
  });
  after(async () => {
    server.proc.kill('SIGKILL');
    await exited(server.proc);
    rmSync(repo, { recursive: true, force: true });
  });

  /**
   * Sends one bomb while liveness is polled; returns what came back. `bodyMiB` is how much the
   * server may hold for the body itself (a REST body is buffered, then joined once).
   */
  async function underPoll<T>(bodyMiB: number, send: () => Promise<T>): Promise<T> {
    const before = peakRssMiB(server.proc.pid!);
    const stop = pollLiveness(server.url);
    const result = await send();
    const { polls, failures } = await stop();
    assert.ok(server.proc.exitCode === null && server.proc.signalCode === null, server.stderr());
    assert.deepEqual(failures, [], `liveness failed during the request (${polls} polls)`);
    const grown = peakRssMiB(server.proc.pid!) - before;
    assert.ok(grown < 3 * bodyMiB + 64, `peak RSS grew by ${grown.toFixed(0)} MiB for a ${bodyMiB} MiB body`);
    return result;
  }

  async function post(path: string, body: Buffer | string, headers: Record<string, string>) {
    const res = await fetch(server.url + path, {
      method: 'POST',
      headers,
      body,
      signal: AbortSignal.timeout(120_000),
    });
    return { status: res.status, body: (await res.json()) as { code: string; error: string } };
  }

  const json = { 'content-type': 'application/json' };
  const jsonBomb = (input: string, shape: number[], n: number): string =>
    `{"inputs":[{"name":"${input}","shape":${JSON.stringify(shape)},"datatype":"BYTES","data":[${emptyStrings(n)}]}]}`;

  it('REST JSON: 4 M empty strings to a model that takes 16 → 413 too_many_elements', async () => {
    const res = await underPoll(12, () =>
      post('/v2/models/upper/infer', jsonBomb('text', [BOMB], BOMB), json),
    );
    assert.equal(res.status, 413, JSON.stringify(res.body));
    assert.equal(res.body.code, 'too_many_elements');
    assert.match(res.body.error, /model 'upper'/);
  });

  it('REST JSON: more elements than --max-request-elements for a model of any size → 413', async () => {
    const body = jsonBomb('in_BYTES', [1, OVER_LIMIT], OVER_LIMIT);
    const res = await underPoll(5, () => post('/v2/models/identity/infer', body, json));
    assert.equal(res.status, 413, JSON.stringify(res.body));
    assert.equal(res.body.code, 'too_many_elements');
    assert.match(res.body.error, /1000000 \(--max-request-elements\)/);
  });

  it('REST JSON to a model that does not exist → 404 model_not_found, nothing decoded', async () => {
    const res = await underPoll(12, () =>
      post('/v2/models/nosuch/infer', jsonBomb('text', [BOMB], BOMB), json),
    );
    assert.equal(res.status, 404, JSON.stringify(res.body));
    assert.equal(res.body.code, 'model_not_found');
  });

  it('REST gzip: 4 MiB of gzip holding 4 GiB → 413 payload_too_large, inflated no further than --max-body-bytes', async () => {
    // 4,096 gzip members of 1 MiB of zeros each (gunzip reads concatenated members as one body).
    const member = gzipSync(Buffer.alloc(1 << 20), { level: 9 });
    const bomb = Buffer.concat(Array.from({ length: 4096 }, () => member));
    // The body (4 MiB) and at most the default 64 MiB limit of inflated bytes.
    const res = await underPoll(68, () =>
      post('/v2/models/upper/infer', bomb, { ...json, 'content-encoding': 'gzip' }),
    );
    assert.equal(res.status, 413, JSON.stringify(res.body));
    assert.equal(res.body.code, 'payload_too_large');
    assert.match(res.body.error, /counted after gzip decompression/);
  });

  it('REST binary: 4 M zero-length BYTES elements → refused by the shape check before any is split', async () => {
    const bomb = (input: string, shape: number[], n: number): [Buffer, Record<string, string>] => {
      const header = Buffer.from(
        JSON.stringify({
          inputs: [{ name: input, shape, datatype: 'BYTES', parameters: { binary_data_size: 4 * n } }],
        }),
      );
      const headers = {
        'content-type': 'application/octet-stream',
        'inference-header-content-length': String(header.length),
      };
      return [Buffer.concat([header, Buffer.alloc(4 * n)]), headers];
    };
    const [over, overHeaders] = bomb('text', [BOMB], BOMB);
    const res = await underPoll(16, () => post('/v2/models/upper/infer', over, overHeaders));
    assert.equal(res.status, 400, JSON.stringify(res.body));
    assert.equal(res.body.code, 'invalid_request');
    assert.match(res.body.error, /max_batch_size 16/);

    const [big, bigHeaders] = bomb('in_BYTES', [1, OVER_LIMIT], OVER_LIMIT);
    const res2 = await underPoll(6, () => post('/v2/models/identity/infer', big, bigHeaders));
    assert.equal(res2.status, 413, JSON.stringify(res2.body));
    assert.equal(res2.body.code, 'too_many_elements');

    // A shape of one element over a body of 4 M: counting stops at the second length prefix.
    const [lying, lyingHeaders] = bomb('text', [1], BOMB);
    const res3 = await underPoll(16, () => post('/v2/models/upper/infer', lying, lyingHeaders));
    assert.equal(res3.status, 400, JSON.stringify(res3.body));
    assert.equal(res3.body.code, 'invalid_input');
    assert.match(res3.body.error, /more than the 1 BYTES elements its shape needs/);
  });

  it('gRPC: 4 M empty bytes_contents → refused with our code before protobufjs decodes them', async () => {
    const meta = (err: grpc.ServiceError | null) => err?.metadata.get('inferd-error-code')[0];
    const err = await underPoll(8, () =>
      modelInfer(grpcTarget, bytesContentsRequest('upper', 'text', [BOMB], BOMB)),
    );
    assert.equal(err?.code, grpc.status.INVALID_ARGUMENT, err?.details);
    assert.equal(meta(err), 'invalid_request');
    assert.match(err!.details, /max_batch_size 16/);

    const big = bytesContentsRequest('identity', 'in_BYTES', [1, OVER_LIMIT], OVER_LIMIT);
    const err2 = await underPoll(3, () => modelInfer(grpcTarget, big));
    assert.equal(err2?.code, grpc.status.RESOURCE_EXHAUSTED, err2?.details);
    assert.equal(meta(err2), 'too_many_elements');

    const err3 = await underPoll(8, () =>
      modelInfer(grpcTarget, bytesContentsRequest('nosuch', 'text', [BOMB], BOMB)),
    );
    assert.equal(err3?.code, grpc.status.NOT_FOUND, err3?.details);
    assert.equal(meta(err3), 'model_not_found');
  });

  it("gRPC ModelStreamInfer: the refusal is the stream's answer to that request, with our code", async () => {
    const res = await underPoll(8, () =>
      streamInfer(grpcTarget, bytesContentsRequest('upper', 'text', [BOMB], BOMB)),
    );
    assert.match(res.error_message, /max_batch_size 16/);
    assert.equal(res.infer_response?.model_name, 'upper');
    assert.equal(res.infer_response?.parameters?.['inferd-error-code']?.string_param, 'invalid_request');
  });

  it('/v1 JSON: millions of empty objects cost JSON.parse 64 bytes each → 413 before parsing', async () => {
    const body = `{"texts":[{}${',{}'.repeat(BOMB - 1)}]}`;
    const res = await underPoll(12, () => post('/v1/models/spam/predict', body, json));
    assert.equal(res.status, 413, JSON.stringify(res.body));
    assert.equal(res.body.code, 'too_many_elements');
  });

  it('the server still serves after every bomb', async () => {
    const res = await post(
      '/v2/models/upper/infer',
      JSON.stringify({ inputs: [{ name: 'text', shape: [2], datatype: 'BYTES', data: ['a', 'bé'] }] }),
      json,
    );
    assert.equal(res.status, 200, JSON.stringify(res.body));
  });

  it("refusals before decoding count as failed requests of the model (reason 'invalid')", async () => {
    // upper refused 4 requests for their size or shape: the JSON scan, the binary header's batch,
    // the gRPC unary and stream batches. (The binary body of 4 M elements under a shape of 1 is
    // a data error, found while decoding, and never counted, as before.)
    const metrics = await (await fetch(server.url + '/metrics')).text();
    assert.match(metrics, /inferd_request_failure_total\{model="upper",version="1",reason="invalid"\} 4\n/);
  });
});
