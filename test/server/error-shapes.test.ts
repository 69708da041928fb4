/**
 * One error shape everywhere a client can reach (issue 23, low items): requests that fail before a
 * route is known (malformed URL escapes, over-long path segments, malformed HTTP, oversized headers)
 * and requests arriving while the server closes got fastify's `{"statusCode": …, "code":
 * "FST_ERR_…"}` bodies or a 503 with no `code`. Now: `{error, code}` on /v2, problem+json on /v1 and
 * /admin, a stable code each time. Raw sockets, since fetch refuses to send most of these.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../src/server.js';
import { startGatewayServer, type GatewayServer } from '../api/server.js';
import { makeFixtureRepository } from '../fixtures/repository.js';
import { parseResponses, rawConnect, until, within, type RawResponse } from '../helpers/raw-http.js';
import { startTestServer, TEST_ADMIN_TOKEN } from '../helpers/server.js';

/** Asserts one of our error bodies and returns its code. */
function ourCode(res: RawResponse, problem = false): string {
  assert.doesNotMatch(res.body, /FST_|statusCode/, res.body);
  const body = JSON.parse(res.body) as Record<string, unknown>;
  if (problem) {
    assert.match(res.headers['content-type'] ?? '', /application\/problem\+json/);
    assert.equal(body.status, res.status);
    assert.equal(typeof body.detail, 'string');
  } else {
    assert.equal(typeof body.error, 'string', res.body);
  }
  assert.equal(typeof body.code, 'string', res.body);
  return body.code as string;
}

async function send(url: string, text: string): Promise<RawResponse> {
  const c = await rawConnect(url);
  try {
    c.write(text);
    return await c.response(5000);
  } finally {
    c.socket.destroy();
  }
}

describe('error shapes before routing', () => {
  let gw: GatewayServer;
  let repo: string;
  before(async () => {
    repo = makeFixtureRepository();
    gw = await startGatewayServer(repo);
  });
  after(async () => {
    await gw.close();
    rmSync(repo, { recursive: true, force: true });
  });

  const get = (path: string) => `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`;
  const cases: Array<[string, string, number, string, boolean]> = [
    ['bad escape on /v2', get('/v2/models/%E0%A4%A/ready'), 400, 'invalid_request', false],
    [
      'bad escape on the infer route',
      'POST /v2/models/%zz/infer HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}',
      400,
      'invalid_request',
      false,
    ],
    ['bad escape on /v1', get('/v1/models/%zz/predict'), 400, 'invalid_request', true],
    ['bad escape on /admin', get('/admin/keys/%zz'), 400, 'invalid_request', true],
    [
      'path segment over 100 characters',
      get(`/v2/models/${'m'.repeat(200)}/ready`),
      400,
      'invalid_request',
      false,
    ],
    ['not HTTP', 'GARBAGE\r\n\r\n', 400, 'invalid_request', false],
    [
      'Content-Length with Transfer-Encoding',
      'POST /v2/repository/index HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n',
      400,
      'invalid_request',
      false,
    ],
    [
      'headers over 16 KiB',
      `GET /v2 HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
      431,
      'headers_too_large',
      false,
    ],
  ];
  for (const [name, text, status, code, problem] of cases) {
    it(`${name}: ${status} ${code}`, async () => {
      const res = await send(gw.url, text);
      assert.equal(res.status, status);
      assert.equal(ourCode(res, problem), code);
    });
  }
});

describe('error shape while the server closes', () => {
  let server: RunningServer;
  let repo: string;
  before(async () => {
    repo = makeFixtureRepository();
    server = await startTestServer(repo);
  });
  after(() => rmSync(repo, { recursive: true, force: true }));

  it('a request arriving during close gets 503 server_draining with our body', async () => {
    const c = await rawConnect(server.httpUrl);
    // A request in progress keeps the connection open through close().
    c.write(
      `POST /v2/repository/index HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TEST_ADMIN_TOKEN}\r\nContent-Length: 2\r\n\r\n{`,
    );
    await new Promise((r) => setTimeout(r, 50));
    const closing = server.close();
    await until(() => (server.app.server.listening ? undefined : true), 10_000, 'the listener to close');
    // The first request completes; a second, pipelined on the same connection, arrives while closing.
    c.write('}GET /v2/models/add HTTP/1.1\r\nHost: x\r\n\r\n');
    const [first, second] = await until(
      () => {
        const r = parseResponses(c.received());
        return r.length >= 2 ? r : undefined;
      },
      10_000,
      'two responses',
    );
    assert.equal(first!.status, 200);
    assert.equal(second!.status, 503);
    assert.equal(ourCode(second!), 'server_draining');
    assert.equal(second!.headers.connection, 'close');
    c.socket.destroy();
    assert.ok(await within(closing, 30_000), 'the server closes');
  });
});
