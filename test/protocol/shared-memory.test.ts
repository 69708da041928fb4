/**
 * Triton's system shared-memory extension through the real server, REST and gRPC: the test creates
 * the /dev/shm object a client would (shm_open is a file there), registers a window, and infers
 * with inputs read from it and outputs written into it.
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { loadProtos } from '../../src/protocol/grpc/proto-files.js';
import type { RunningServer } from '../../src/server.js';
import { makeFixtureRepository } from '../fixtures/repository.js';
import { adminHeaders, startTestServer, TEST_ADMIN_TOKEN } from '../helpers/server.js';
import { bearerMetadata, rawCall } from './grpc-helpers.js';

/** Keys unique to this process, so parallel test files and helpers do not collide. */
const key = (s: string): string => `inferd-test-${process.pid}-${s}`;
const created: string[] = [];

/** Creates /dev/shm/<key> holding `bytes` (what shm_open + ftruncate + memcpy do). */
function createShm(name: string, bytes: Uint8Array): string {
  const k = key(name);
  writeFileSync(`/dev/shm/${k}`, bytes);
  created.push(`/dev/shm/${k}`);
  return k;
}

const f32bytes = (v: number[]): Uint8Array => new Uint8Array(new Float32Array(v).buffer);

describe('system shared memory', () => {
  let server: RunningServer;
  let stub: grpc.Client;
  let repo: string;

  before(async () => {
    repo = makeFixtureRepository();
    server = await startTestServer(repo);
    stub = new (loadProtos().inference)(server.grpcUrl, grpc.credentials.createInsecure());
  });
  after(async () => {
    stub?.close();
    await server?.close();
    rmSync(repo, { recursive: true, force: true });
    for (const f of created) rmSync(f, { force: true });
  });

  const post = (path: string, body?: object, headers = adminHeaders()) =>
    fetch(server.httpUrl + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
  const get = (path: string, headers = adminHeaders()) => fetch(server.httpUrl + path, { headers });

  it('is advertised in the server metadata', async () => {
    const meta = (await (await fetch(server.httpUrl + '/v2')).json()) as { extensions: string[] };
    assert.ok(meta.extensions.includes('system_shared_memory'));
  });

  it('REST: inputs read from and outputs written into a region; the outputs come back without data', async () => {
    // a at 0, b at 16, sum at 32, diff at 48; registered from offset 8 to test both offsets.
    const file = new Uint8Array(8 + 64);
    file.set(f32bytes([1, 2, 3, 4]), 8);
    file.set(f32bytes([10, 20, 30, 40]), 24);
    const k = createShm('rest', file);
    assert.equal(
      (await post('/v2/systemsharedmemory/region/r1/register', { key: `/${k}`, offset: 8, byte_size: 64 }))
        .status,
      200,
    );
    const status = (await (await get('/v2/systemsharedmemory/region/r1/status')).json()) as unknown[];
    assert.deepEqual(status, [{ name: 'r1', key: `/${k}`, offset: 8, byte_size: 64 }]);

    const shm = (offset: number) => ({
      shared_memory_region: 'r1',
      shared_memory_offset: offset,
      shared_memory_byte_size: 16,
    });
    const res = await post(
      '/v2/models/add/infer',
      {
        inputs: [
          { name: 'a', datatype: 'FP32', shape: [1, 4], parameters: shm(0) },
          { name: 'b', datatype: 'FP32', shape: [1, 4], parameters: shm(16) },
        ],
        outputs: [
          { name: 'sum', parameters: shm(32) },
          { name: 'diff', parameters: shm(48) },
        ],
      },
      {},
    );
    assert.equal(res.status, 200, await res.clone().text());
    const body = (await res.json()) as { outputs: Array<Record<string, unknown>> };
    const sum = body.outputs.find((o) => o.name === 'sum')!;
    assert.equal(sum.data, undefined);
    assert.deepEqual(sum.shape, [1, 4]);
    assert.deepEqual(sum.parameters, {
      shared_memory_region: 'r1',
      shared_memory_byte_size: 16,
      shared_memory_offset: 32,
    });
    const after = readFileSync(`/dev/shm/${k}`);
    const floats = new Float32Array(after.buffer.slice(after.byteOffset + 8 + 32, after.byteOffset + 8 + 64));
    assert.deepEqual([...floats], [11, 22, 33, 44, -9, -18, -27, -36]);

    // Unregister one region; then it is unknown to inference and status.
    assert.equal((await post('/v2/systemsharedmemory/region/r1/unregister')).status, 200);
    const gone = await post(
      '/v2/models/add/infer',
      {
        inputs: [
          { name: 'a', datatype: 'FP32', shape: [1, 4], parameters: shm(0) },
          { name: 'b', datatype: 'FP32', shape: [1, 4], data: [1, 1, 1, 1] },
        ],
      },
      {},
    );
    assert.equal(gone.status, 400);
    assert.equal(((await gone.json()) as { code: string }).code, 'shm_region_not_found');
    assert.equal((await get('/v2/systemsharedmemory/region/r1/status')).status, 400);
  });

  it('REST: refuses unsafe keys, symlinks, windows past the object, duplicates and bad windows', async () => {
    const k = createShm('bounds', new Uint8Array(32));
    const code = async (r: Response) => [r.status, ((await r.json()) as { code: string }).code];
    const reg = (name: string, body: object) => post(`/v2/systemsharedmemory/region/${name}/register`, body);
    assert.deepEqual(await code(await reg('t1', { key: '../../etc/passwd', byte_size: 4 })), [
      400,
      'shm_invalid',
    ]);
    assert.deepEqual(await code(await reg('t1', { key: '/a/b', byte_size: 4 })), [400, 'shm_invalid']);
    assert.deepEqual(await code(await reg('t1', { key: k, offset: 16, byte_size: 32 })), [
      400,
      'shm_invalid',
    ]);
    assert.deepEqual(await code(await reg('t1', { key: key('missing'), byte_size: 4 })), [
      400,
      'shm_invalid',
    ]);
    const link = key('link');
    symlinkSync(`/dev/shm/${k}`, `/dev/shm/${link}`);
    created.push(`/dev/shm/${link}`);
    assert.deepEqual(await code(await reg('t1', { key: link, byte_size: 4 })), [400, 'shm_invalid']);

    assert.equal((await reg('t1', { key: k, byte_size: 32 })).status, 200);
    assert.deepEqual(await code(await reg('t1', { key: k, byte_size: 32 })), [409, 'shm_region_exists']);
    // A byte size that disagrees with the shape, and a window past the region.
    const infer = (parameters: object) =>
      post(
        '/v2/models/add/infer',
        {
          inputs: [
            { name: 'a', datatype: 'FP32', shape: [1, 4], parameters },
            { name: 'b', datatype: 'FP32', shape: [1, 4], data: [1, 1, 1, 1] },
          ],
        },
        {},
      );
    const wrongSize = { shared_memory_region: 't1', shared_memory_byte_size: 12 };
    assert.deepEqual(await code(await infer(wrongSize)), [400, 'shm_invalid']);
    const pastEnd = { shared_memory_region: 't1', shared_memory_offset: 24, shared_memory_byte_size: 16 };
    assert.deepEqual(await code(await infer(pastEnd)), [400, 'shm_invalid']);
    assert.equal((await post('/v2/systemsharedmemory/unregister')).status, 200);
    assert.deepEqual(await (await get('/v2/systemsharedmemory/status')).json(), []);
  });

  it('REST: registering needs the admin token; CUDA registration is unsupported', async () => {
    const k = createShm('auth', new Uint8Array(16));
    const r = await post('/v2/systemsharedmemory/region/x/register', { key: k, byte_size: 16 }, {});
    assert.equal(r.status, 401);
    const cuda = await post('/v2/cudasharedmemory/region/x/register', {
      raw_handle: { b64: '' },
      device_id: 0,
      byte_size: 16,
    });
    assert.equal(cuda.status, 501);
    assert.equal(((await cuda.json()) as { code: string }).code, 'unsupported');
    // Clients unregister every CUDA region before they start: that succeeds, and status is empty.
    assert.equal((await post('/v2/cudasharedmemory/unregister')).status, 200);
    assert.deepEqual(await (await get('/v2/cudasharedmemory/status')).json(), []);
  });

  it('gRPC: register, infer through the region with raw contents for the other input, status, unregister', async () => {
    const md = bearerMetadata(TEST_ADMIN_TOKEN);
    const file = new Uint8Array(48);
    file.set(f32bytes([5, 6, 7, 8]), 0);
    const k = createShm('grpc', file);
    const reg = await rawCall(
      stub,
      'SystemSharedMemoryRegister',
      { name: 'g1', key: k, offset: 0, byte_size: 48 },
      {},
      md,
    );
    assert.equal(reg.err, null);
    const st = await rawCall<{ regions: Record<string, { key: string; byte_size: string }> }>(
      stub,
      'SystemSharedMemoryStatus',
      { name: 'g1' },
      {},
      md,
    );
    assert.equal(st.res!.regions.g1!.key, k);
    assert.equal(Number(st.res!.regions.g1!.byte_size), 48);

    const p = (offset: number) => ({
      shared_memory_region: { string_param: 'g1' },
      shared_memory_offset: { int64_param: offset },
      shared_memory_byte_size: { int64_param: 16 },
    });
    const inf = await rawCall<{
      outputs: Array<{ name: string; parameters: object }>;
      raw_output_contents: Buffer[];
    }>(stub, 'ModelInfer', {
      model_name: 'add',
      inputs: [
        { name: 'a', datatype: 'FP32', shape: [1, 4], parameters: p(0) },
        { name: 'b', datatype: 'FP32', shape: [1, 4] },
      ],
      outputs: [{ name: 'sum', parameters: p(16) }, { name: 'diff' }],
      raw_input_contents: [Buffer.from(f32bytes([1, 1, 1, 1]))],
    });
    assert.equal(inf.err, null, inf.err?.message);
    const sumOut = readFileSync(`/dev/shm/${k}`).subarray(16, 32);
    assert.deepEqual([...new Float32Array(new Uint8Array(sumOut).buffer)], [6, 7, 8, 9]);
    // diff came back in the body; sum's raw entry is empty and keeps its place.
    const names = inf.res!.outputs.map((o) => o.name);
    const diffRaw = inf.res!.raw_output_contents[names.indexOf('diff')]!;
    assert.deepEqual([...new Float32Array(new Uint8Array(diffRaw).buffer)], [4, 5, 6, 7]);
    assert.equal(inf.res!.raw_output_contents[names.indexOf('sum')]!.length, 0);

    const bad = await rawCall(
      stub,
      'SystemSharedMemoryRegister',
      { name: 'g2', key: '..', byte_size: 1 },
      {},
      md,
    );
    assert.equal(bad.err?.code, grpc.status.INVALID_ARGUMENT);
    const noKey = await rawCall(stub, 'SystemSharedMemoryRegister', { name: 'g3', key: k, byte_size: 1 });
    assert.equal(noKey.err?.code, grpc.status.UNAUTHENTICATED);
    const cuda = await rawCall(stub, 'CudaSharedMemoryRegister', { name: 'c', byte_size: 1 }, {}, md);
    assert.equal(cuda.err?.code, grpc.status.UNIMPLEMENTED);
    assert.equal((await rawCall(stub, 'SystemSharedMemoryUnregister', { name: '' }, {}, md)).err, null);
    const empty = await rawCall<{ regions: object }>(stub, 'SystemSharedMemoryStatus', {}, {}, md);
    assert.deepEqual(empty.res!.regions, {});
  });
});
