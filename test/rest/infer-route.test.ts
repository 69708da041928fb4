/**
 * The infer route served on the raw HTTP server ahead of fastify (src/protocol/rest/infer-route.ts)
 * keeps fastify's contract: path matching and percent-decoding, the version and alias forms, the
 * body limit while streaming, the access-log line with its redactions, other methods left to
 * fastify, and a closing connection while the server drains.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { loadSettings } from '../../src/config.js';
import { parseInferPath } from '../../src/protocol/rest/infer-route.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { makeFixtureRepository } from '../fixtures/repository.js';

const good = JSON.stringify({
  inputs: [
    { name: 'a', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] },
    { name: 'b', shape: [1, 4], datatype: 'FP32', data: [1, 1, 1, 1] },
  ],
});

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One request on a fresh connection; `chunks` are written one by one (chunked encoding). */
function request(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; chunks?: (string | Buffer)[] } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: opts.method ?? 'POST', headers: opts.headers, agent: false },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    // A server that answers before the whole body is sent may reset the connection meanwhile.
    req.on('error', (err: NodeJS.ErrnoException) => (err.code === 'EPIPE' ? undefined : reject(err)));
    for (const c of opts.chunks ?? []) req.write(c);
    req.end();
  });
}

describe('parseInferPath', () => {
  it('takes exactly the two infer forms, percent-decoded, with any query string', () => {
    assert.deepEqual(parseInferPath('/v2/models/spam/infer'), { model: 'spam' });
    assert.deepEqual(parseInferPath('/v2/models/spam/infer?x=1'), { model: 'spam' });
    assert.deepEqual(parseInferPath('/v2/models/spam/versions/2/infer'), { model: 'spam', version: '2' });
    assert.deepEqual(parseInferPath('/v2/models/my%20model/versions/prod%2Dv/infer'), {
      model: 'my model',
      version: 'prod-v',
    });
    for (const other of [
      '/v2/models/infer',
      '/v2/models//infer',
      '/v2/models/spam/infer/',
      '/v2/models/spam/ready',
      '/v2/models/spam/versions//infer',
      '/v2/models/spam/other/2/infer',
      '/v2/models/a/b/infer',
      '/v2/models/%E0%A4%A/infer', // malformed escape: fastify answers it
      '/v1/models/spam/infer',
    ]) {
      assert.equal(parseInferPath(other), undefined, other);
    }
  });
});

describe('REST infer route on the raw server', () => {
  let server: RunningServer;
  const lines: Array<Record<string, unknown>> = [];
  before(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString().split('\n'))
          if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
        done();
      },
    });
    const settings = loadSettings(
      {
        modelRepository: makeFixtureRepository(),
        host: '127.0.0.1',
        httpPort: 0,
        grpcPort: 0,
        maxBodyBytes: 2048,
        auth: 'off',
      },
      {},
    );
    server = await startServer(settings, { logger: pino({ level: 'info' }, sink) });
  });
  after(async () => {
    await server.close();
  });

  it('writes one access-log line per request, with the timings and without secrets', async () => {
    const res = await request(`${server.httpUrl}/v2/models/add/infer?token=s3cret`, {
      headers: { 'content-type': 'application/json', 'x-request-id': 'log-1' },
      chunks: [good],
    });
    assert.equal(res.status, 200, res.body);
    assert.equal(res.headers['x-request-id'], 'log-1');
    const line = lines.find((l) => l.reqId === 'log-1');
    assert.ok(line, 'no access-log line');
    assert.equal(line.msg, 'request');
    assert.equal(line.method, 'POST');
    assert.equal(line.url, '/v2/models/add/infer?token=[redacted]');
    assert.equal(line.status, 200);
    assert.equal(line.model, 'add');
    assert.equal(line.version, '1');
    for (const k of ['ms', 'queueMs', 'computeMs']) assert.equal(typeof line[k], 'number', k);
    // Fastify's routes write the same line through the same code.
    const meta = await request(`${server.httpUrl}/v2/models/add?key=s3cret`, {
      method: 'GET',
      headers: { 'x-request-id': 'log-2' },
    });
    assert.equal(meta.status, 200, meta.body);
    const other = lines.find((l) => l.reqId === 'log-2');
    assert.ok(other, 'no access-log line for a fastify route');
    assert.deepEqual(
      [other.msg, other.method, other.url, other.status, typeof other.ms],
      ['request', 'GET', '/v2/models/add?key=[redacted]', 200, 'number'],
    );
  });

  it('serves the version and alias forms, and names an unknown version', async () => {
    const byNumber = await request(`${server.httpUrl}/v2/models/add/versions/1/infer`, { chunks: [good] });
    assert.equal(byNumber.status, 200, byNumber.body);
    assert.equal((JSON.parse(byNumber.body) as { model_version: string }).model_version, '1');
    const byAlias = await request(`${server.httpUrl}/v2/models/add/versions/production/infer`, {
      chunks: [good],
    });
    assert.equal(byAlias.status, 200, byAlias.body);
    const missing = await request(`${server.httpUrl}/v2/models/add/versions/9/infer`, { chunks: [good] });
    assert.equal(missing.status, 404);
    assert.equal((JSON.parse(missing.body) as { code: string }).code, 'version_not_found');
  });

  it('percent-decodes the model name', async () => {
    const res = await request(`${server.httpUrl}/v2/models/no%20such/infer`, { chunks: [good] });
    assert.equal(res.status, 404);
    const body = JSON.parse(res.body) as { code: string; error: string };
    assert.equal(body.code, 'model_not_found');
    assert.match(body.error, /'no such'/);
  });

  it('a chunked body over the limit is 413 payload_too_large, and the connection closes', async () => {
    const res = await request(`${server.httpUrl}/v2/models/add/infer`, {
      headers: { 'content-type': 'application/json' },
      chunks: [Buffer.alloc(1500, 32), Buffer.alloc(1500, 32)],
    });
    assert.equal(res.status, 413);
    assert.equal((JSON.parse(res.body) as { code: string }).code, 'payload_too_large');
    assert.equal(res.headers.connection, 'close');
  });

  it('other methods on an infer path are fastify 404s in the error shape', async () => {
    const res = await request(`${server.httpUrl}/v2/models/add/infer`, { method: 'GET' });
    assert.equal(res.status, 404);
    assert.equal((JSON.parse(res.body) as { code: string }).code, 'not_found');
  });

  it('while draining: 503 server_draining, and the connection is not kept', async () => {
    server.service.startDraining();
    const res = await request(`${server.httpUrl}/v2/models/add/infer`, { chunks: [good] });
    assert.equal(res.status, 503);
    assert.equal((JSON.parse(res.body) as { code: string }).code, 'server_draining');
    assert.equal(res.headers.connection, 'close');
    assert.equal(res.headers['retry-after'], '1');
  });
});
