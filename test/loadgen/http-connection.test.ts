/**
 * The bench's own HTTP/1.1 client (src/loadgen/http-connection.ts) against servers it does not control:
 * plain node:http servers answering with Content-Length or chunked bodies, errors in our shape or
 * not, connections the server closes, and answers that never come.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { HttpJsonClient } from '../../src/loadgen/http-connection.js';
import { ClientError, type ClientRequest } from '../../src/oip-client/types.js';

const request: ClientRequest = {
  modelName: 'm x',
  inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: new Float32Array([1, 2]) }],
};

const ok = (name: string) =>
  JSON.stringify({
    model_name: 'm x',
    model_version: '1',
    outputs: [{ name, datatype: 'FP32', shape: [1, 2], data: [3, 4] }],
  });

describe('bench HTTP client', () => {
  let server: http.Server;
  let base: string;
  const seen: Array<{ url: string; body: string; connection: number; headers: http.IncomingHttpHeaders }> =
    [];
  let connections = 0;
  before(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        seen.push({
          url: req.url!,
          body,
          connection: (req.socket as { id?: number }).id!,
          headers: req.headers,
        });
        const mode = req.headers['x-mode'];
        if (mode === 'chunked') {
          res.writeHead(200, { 'content-type': 'application/json' }); // no length: chunked
          const text = ok('chunked');
          res.write(text.slice(0, 10));
          setTimeout(() => res.end(text.slice(10)), 5);
        } else if (mode === 'refuse') {
          res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '2', connection: 'close' });
          res.end(JSON.stringify({ error: 'the queue is full', code: 'queue_full' }));
        } else if (mode === 'text') {
          res.writeHead(502, { 'content-type': 'text/plain' });
          res.end('bad gateway');
        } else if (mode === 'silent') {
          // never answers
        } else {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(ok('y'));
        }
      });
    });
    server.on('connection', (socket) => Object.assign(socket, { id: ++connections }));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/prefix/`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  /** Runs `use` with a fresh client on `base`, closed afterwards whatever happens. */
  const withClient = async (use: (client: HttpJsonClient) => Promise<void>): Promise<void> => {
    const client = new HttpJsonClient(base);
    try {
      await use(client);
    } finally {
      await client.close();
    }
  };

  it('sends the JSON request to the prefixed, escaped path and reuses its connection', () =>
    withClient(async (client) => {
      const a = await client.infer(request);
      const b = await client.infer(request);
      assert.deepEqual([...(a.outputs[0]!.data as Float32Array)], [3, 4]);
      assert.equal(b.outputs[0]!.name, 'y');
      const [first, second] = seen.slice(-2);
      assert.equal(first!.url, '/prefix/v2/models/m%20x/infer');
      assert.deepEqual(JSON.parse(first!.body), {
        inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: [1, 2] }],
      });
      assert.equal(first!.headers['content-type'], 'application/json');
      assert.equal(first!.connection, second!.connection);
    }));

  it('reads chunked answers', () =>
    withClient(async (client) => {
      const r = await client.infer(request, { headers: { 'x-mode': 'chunked' } });
      assert.equal(r.outputs[0]!.name, 'chunked');
    }));

  it('maps error answers to ClientError (code, status, headers), and survives a closed connection', () =>
    withClient(async (client) => {
      const refused = await client
        .infer(request, { headers: { 'x-mode': 'refuse' } })
        .catch((e: unknown) => e);
      assert.ok(refused instanceof ClientError);
      assert.equal(refused.code, 'queue_full');
      assert.equal(refused.status, 503);
      assert.equal(refused.message, 'the queue is full');
      assert.equal(refused.headers['retry-after'], '2');
      // The server closed that connection; the next request opens another.
      const after = await client.infer(request);
      assert.equal(after.outputs[0]!.name, 'y');
      const text = await client.infer(request, { headers: { 'x-mode': 'text' } }).catch((e: unknown) => e);
      assert.ok(text instanceof ClientError);
      assert.equal(text.code, 'unknown');
      assert.equal(text.status, 502);
      assert.equal(text.message, 'bad gateway');
    }));

  it('an answer that never comes is a TimeoutError after timeoutMs', () =>
    withClient(async (client) => {
      const err = await client
        .infer(request, { headers: { 'x-mode': 'silent' }, timeoutMs: 50 })
        .catch((e: unknown) => e as Error);
      assert.equal((err as Error).name, 'TimeoutError');
      const next = await client.infer(request);
      assert.equal(next.outputs[0]!.name, 'y');
    }));

  it('a refused connection is a network error with its errno', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const client = new HttpJsonClient(`http://127.0.0.1:${port}`);
    const err = (await client.infer(request).catch((e: unknown) => e)) as NodeJS.ErrnoException;
    assert.equal(err.code, 'ECONNREFUSED');
    await client.close();
  });
});
