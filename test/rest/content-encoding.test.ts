/**
 * Content codings on /v2 (issue 18): request bodies in gzip or deflate, as tritonclient.http sends
 * them with `request_compression_algorithm` (Content-Encoding, gzip.compress / zlib.compress), and
 * compressed answers for `response_compression_algorithm` (Accept-Encoding). Real sockets through
 * node:http, which neither adds Accept-Encoding nor decompresses, so every byte is the server's.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { deflateSync, gunzipSync, gzipSync, inflateSync } from 'node:zlib';
import type { RunningServer } from '../../src/server.js';
import { makeFixtureRepository } from '../fixtures/repository.js';
import { adminHeaders, startTestServer } from '../helpers/server.js';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function post(url: string, headers: Record<string, string>, body: Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: 'POST',
      headers: { 'content-length': String(body.length), ...headers },
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

const MAX_BODY = 4 << 20; // 4 MiB: the bound on the decompressed body too

const addJson = (id: string, extra: Record<string, unknown> = {}): Buffer =>
  Buffer.from(
    JSON.stringify({
      id,
      inputs: [
        { name: 'a', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] },
        { name: 'b', shape: [1, 4], datatype: 'FP32', data: [10, 20, 30, 40] },
      ],
      ...extra,
    }),
  );

interface JsonOutputs {
  id: string;
  outputs: Array<{ name: string; data: number[] }>;
}

describe('Content-Encoding gzip/deflate on requests, Accept-Encoding on responses', () => {
  let server: RunningServer;
  let repo: string;
  let infer: string;

  before(async () => {
    repo = makeFixtureRepository();
    server = await startTestServer(repo, { maxBodyBytes: MAX_BODY, maxBufferedBodyBytes: 4 * MAX_BODY });
    infer = `${server.httpUrl}/v2/models/add/infer`;
  });
  after(async () => {
    await server?.close();
    rmSync(repo, { recursive: true, force: true });
  });

  it('a gzip JSON body with Accept-Encoding: gzip → a gzip JSON answer', async () => {
    const res = await post(
      infer,
      { 'content-encoding': 'gzip', 'accept-encoding': 'gzip' },
      gzipSync(addJson('gz')),
    );
    assert.equal(res.status, 200, res.body.toString());
    assert.equal(res.headers['content-encoding'], 'gzip');
    assert.equal(res.headers.vary, 'accept-encoding');
    const body = JSON.parse(gunzipSync(res.body).toString()) as JsonOutputs;
    assert.equal(body.id, 'gz');
    assert.deepEqual(body.outputs.find((o) => o.name === 'sum')!.data, [11, 22, 33, 44]);
  });

  it('a deflate binary body: Inference-Header-Content-Length counts the uncompressed header, both ways', async () => {
    const header = Buffer.from(
      JSON.stringify({
        id: 'bin',
        inputs: [
          { name: 'a', shape: [1, 4], datatype: 'FP32', parameters: { binary_data_size: 16 } },
          { name: 'b', shape: [1, 4], datatype: 'FP32', parameters: { binary_data_size: 16 } },
        ],
        outputs: [{ name: 'sum', parameters: { binary_data: true } }],
      }),
    );
    const a = Buffer.from(Float32Array.from([1, 2, 3, 4]).buffer);
    const b = Buffer.from(Float32Array.from([5, 5, 5, 5]).buffer);
    const res = await post(
      infer,
      {
        'content-encoding': 'deflate',
        'accept-encoding': 'deflate',
        'inference-header-content-length': String(header.length),
      },
      deflateSync(Buffer.concat([header, a, b])),
    );
    assert.equal(res.status, 200, res.body.toString());
    assert.equal(res.headers['content-encoding'], 'deflate');
    const plain = inflateSync(res.body);
    const hl = Number(res.headers['inference-header-content-length']);
    const json = JSON.parse(plain.subarray(0, hl).toString()) as { id: string };
    assert.equal(json.id, 'bin');
    const sum = plain.subarray(hl);
    assert.deepEqual(
      [...new Float32Array(sum.buffer.slice(sum.byteOffset, sum.byteOffset + 16))],
      [6, 7, 8, 9],
    );
  });

  it('no Accept-Encoding (or q=0) → an uncompressed answer; an error answer is never compressed', async () => {
    const plain = await post(infer, { 'content-encoding': 'gzip' }, gzipSync(addJson('plain')));
    assert.equal(plain.status, 200);
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.equal((JSON.parse(plain.body.toString()) as JsonOutputs).id, 'plain');
    const refused = await post(infer, { 'accept-encoding': 'gzip;q=0, identity' }, addJson('q0'));
    assert.equal(refused.headers['content-encoding'], undefined);
    // tritonclient reads error bodies without decompressing them (and Triton sends them plain).
    const missing = await post(
      `${server.httpUrl}/v2/models/nope/infer`,
      { 'accept-encoding': 'gzip' },
      addJson('x'),
    );
    assert.equal(missing.status, 404);
    assert.equal(missing.headers['content-encoding'], undefined);
    assert.equal((JSON.parse(missing.body.toString()) as { code: string }).code, 'model_not_found');
  });

  it('an unsupported coding → 415 with Accept-Encoding; a corrupt stream → 400', async () => {
    const br = await post(infer, { 'content-encoding': 'br' }, addJson('br'));
    assert.equal(br.status, 415);
    assert.equal(br.headers['accept-encoding'], 'gzip, deflate');
    const e = JSON.parse(br.body.toString()) as { error: string; code: string };
    assert.equal(e.code, 'unsupported_media_type');
    assert.match(e.error, /^Unsupported compression type/);
    const corrupt = await post(infer, { 'content-encoding': 'gzip' }, addJson('not gzip'));
    assert.equal(corrupt.status, 400);
    const c = JSON.parse(corrupt.body.toString()) as { error: string; code: string };
    assert.equal(c.code, 'invalid_request');
    assert.match(c.error, /not valid gzip/);
  });

  it('a decompression bomb (1 MiB of gzip holding 1 GiB) → 413 before it is inflated; the server serves on', async () => {
    // 1,024 gzip members of 1 MiB of zeros each: gunzip reads concatenated members as one body.
    const member = gzipSync(Buffer.alloc(1 << 20), { level: 9 });
    const bomb = Buffer.concat(Array.from({ length: 1024 }, () => member));
    assert.ok(bomb.length < MAX_BODY, 'the compressed body itself is within the limit');
    const rssBefore = process.memoryUsage().rss;
    const res = await post(infer, { 'content-encoding': 'gzip' }, bomb);
    const grew = process.memoryUsage().rss - rssBefore;
    assert.equal(res.status, 413);
    const e = JSON.parse(res.body.toString()) as { error: string; code: string };
    assert.equal(e.code, 'payload_too_large');
    assert.match(e.error, /counted after gzip decompression/);
    // Inflated whole, the body would take 1 GiB; bounded, at most the 4 MiB limit (plus noise).
    assert.ok(grew < 256 * 2 ** 20, `RSS grew by ${Math.round(grew / 2 ** 20)} MiB`);
    const after = await post(infer, {}, addJson('after'));
    assert.equal(after.status, 200);
  });

  it('the fastify routes read compressed bodies too (repository index)', async () => {
    const res = await post(
      `${server.httpUrl}/v2/repository/index`,
      adminHeaders({ 'content-type': 'application/json', 'content-encoding': 'gzip' }),
      gzipSync(Buffer.from(JSON.stringify({ ready: true }))),
    );
    assert.equal(res.status, 200, res.body.toString());
    const index = JSON.parse(res.body.toString()) as Array<{ name: string }>;
    assert.ok(index.some((m) => m.name === 'add'));
    const bomb = await post(
      `${server.httpUrl}/v2/repository/index`,
      adminHeaders({ 'content-type': 'application/json', 'content-encoding': 'deflate' }),
      deflateSync(Buffer.alloc(64 << 20, 0x20), { level: 9 }),
    );
    assert.equal(bomb.status, 413);
    assert.equal((JSON.parse(bomb.body.toString()) as { code: string }).code, 'payload_too_large');
  });
});
