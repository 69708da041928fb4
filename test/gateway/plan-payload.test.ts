/**
 * Issue 23, finding 5: a chunked multipart upload (no Content-Length) of 3 MB was accepted on the
 * free plan's 2 MiB limit: @fastify/multipart reads the raw request itself, past every body check.
 * The plan's limit now holds on the bytes actually read, for every content type.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { makeApiRepository } from '../api/fixtures.js';
import { startGatewayServer, type GatewayServer } from '../api/server.js';

const MiB = 1024 * 1024;

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * POSTs `chunks` with Transfer-Encoding: chunked, one write at a time, and stops writing once the
 * server answered (it may refuse before the body is in, then close the connection).
 */
function postChunked(url: string, headers: Record<string, string>, chunks: Buffer[]): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = request(url, { method: 'POST', headers }, (res) => {
      answered = true;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
    void (async () => {
      for (const c of chunks) {
        if (answered || req.destroyed) return;
        if (!req.write(c)) await new Promise((r) => req.once('drain', r));
      }
      req.end();
    })().catch(() => undefined);
  });
}

function multipart(fieldBytes: Buffer): { contentType: string; chunks: Buffer[] } {
  const boundary = '----inferd-test-boundary';
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="scan.png"\r\n` +
      'Content-Type: application/octet-stream\r\n\r\n',
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const chunks: Buffer[] = [head];
  for (let i = 0; i < fieldBytes.length; i += 64 * 1024) chunks.push(fieldBytes.subarray(i, i + 64 * 1024));
  chunks.push(tail);
  return { contentType: `multipart/form-data; boundary=${boundary}`, chunks };
}

/** A document the ocr_echo model hands back parsed: `bytes` long in all. */
function document(bytes: number): Buffer {
  const shell = '{"text":"","lines":[]}';
  return Buffer.from(`{"text":"${'x'.repeat(bytes - shell.length)}","lines":[]}`);
}

describe('the plan payload limit holds on the bytes actually read', () => {
  let repo: string;
  let g: GatewayServer;
  let key: string;
  before(async () => {
    repo = makeApiRepository();
    g = await startGatewayServer(repo);
    key = (await g.admin.create({ name: 'free', plan: 'free' })).key; // 2 MiB
  });
  after(async () => {
    await g.close();
    rmSync(repo, { recursive: true, force: true });
  });

  const url = () => `${g.url}/v1/models/ocr_echo/predict`;

  it('a chunked multipart upload over the plan limit → 413 payload_too_large', async () => {
    const { contentType, chunks } = multipart(document(3 * MiB));
    const r = await postChunked(
      url(),
      { authorization: `Bearer ${key}`, 'content-type': contentType },
      chunks,
    );
    assert.equal(r.status, 413, r.body.slice(0, 200));
    const problem = JSON.parse(r.body) as { code: string; detail: string };
    assert.equal(problem.code, 'payload_too_large');
    assert.match(problem.detail, /plan free's limit of 2097152 bytes/);
    assert.equal(r.headers.connection, 'close', 'the rest of the body is not read');
  });

  it('a chunked multipart upload under the limit still works', async () => {
    const { contentType, chunks } = multipart(document(MiB));
    const r = await postChunked(
      url(),
      { authorization: `Bearer ${key}`, 'content-type': contentType },
      chunks,
    );
    assert.equal(r.status, 200, r.body.slice(0, 200));
    assert.equal((JSON.parse(r.body) as { text: string }).text.length, MiB - 22);
  });

  it('a chunked JSON body over the plan limit → 413 payload_too_large', async () => {
    const image = document(3 * MiB).toString('base64');
    const body = Buffer.from(JSON.stringify({ image_base64: image }));
    const chunks: Buffer[] = [];
    for (let i = 0; i < body.length; i += 64 * 1024) chunks.push(body.subarray(i, i + 64 * 1024));
    const r = await postChunked(
      url(),
      { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      chunks,
    );
    assert.equal(r.status, 413, r.body.slice(0, 200));
    assert.equal((JSON.parse(r.body) as { code: string }).code, 'payload_too_large');
  });
});
