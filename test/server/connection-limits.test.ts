/**
 * Issue 23, finding 3: slow or stalled requests and many connections cannot hold the HTTP server.
 * Real sockets against a real server with short limits set through the settings; every wait is
 * bounded, and no assertion is on speed: a limit that does not act leaves the request unanswered
 * and the bounded wait fails.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { loadSettings, SettingsError } from '../../src/config.js';
import type { RunningServer } from '../../src/server.js';
import { makeFixtureRepository } from '../fixtures/repository.js';
import { rawConnect, within, type RawResponse } from '../helpers/raw-http.js';
import { adminHeaders, startTestServer, TEST_ADMIN_TOKEN } from '../helpers/server.js';

/** The repository API needs the admin token (docs/access-control.md); the header line for raw requests. */
const ADMIN = `Authorization: Bearer ${TEST_ADMIN_TOKEN}\r\n`;

/** Our error body: `{error, code}`, never fastify's `{statusCode, …}`. */
function code(res: RawResponse): string {
  const body = JSON.parse(res.body) as { error?: unknown; code?: unknown; statusCode?: unknown };
  assert.equal(typeof body.error, 'string', res.body);
  assert.equal(body.statusCode, undefined, res.body);
  return String(body.code);
}

/** Retries `check` (bounded: 200 tries, 20 ms apart) until it holds. */
async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail(`${what}: not within 200 tries`);
}

const json = (x: number) =>
  JSON.stringify({ inputs: [{ name: 'x', shape: [1, 1], datatype: 'FP32', data: [x] }] });

describe('HTTP timeouts', () => {
  let server: RunningServer;
  let repo: string;
  before(async () => {
    repo = makeFixtureRepository({ slowDepth: 24 });
    server = await startTestServer(repo, { headersTimeoutMs: 200, bodyTimeoutMs: 300, idleTimeoutMs: 400 });
  });
  after(async () => {
    await server.close();
    rmSync(repo, { recursive: true, force: true });
  });

  it('slowloris: headers trickling in get 408 request_timeout and the connection closes', async () => {
    const c = await rawConnect(server.httpUrl);
    c.write('GET /v2/health/live HTTP/1.1\r\nHost: x\r\n');
    // Keep sending header lines (the attack), never the blank line that ends them.
    const drip = setInterval(() => c.write(`X-Drip-${Date.now()}: 1\r\n`), 50);
    try {
      const res = await c.response(5000);
      assert.equal(res.status, 408);
      assert.equal(code(res), 'request_timeout');
      assert.match(res.body, /headers did not arrive within 200 ms/);
      assert.ok(await within(c.closed, 5000), 'the connection is closed');
    } finally {
      clearInterval(drip);
      c.socket.destroy();
    }
  });

  it('a connection that never sends a byte is closed', async () => {
    const c = await rawConnect(server.httpUrl);
    assert.ok(await within(c.closed, 5000), 'closed by the headers timeout');
  });

  for (const [name, path] of [
    ['the raw infer route', '/v2/models/add/infer'],
    ['a fastify route', '/v2/repository/index'],
  ]) {
    it(`a stalled body on ${name} gets 408 request_timeout`, async () => {
      const c = await rawConnect(server.httpUrl);
      c.write(
        `POST ${path} HTTP/1.1\r\nHost: x\r\n${ADMIN}Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"in`,
      );
      try {
        const res = await c.response(5000);
        assert.equal(res.status, 408);
        assert.equal(code(res), 'request_timeout');
        assert.match(res.body, /body did not arrive within 300 ms/);
        assert.ok(await within(c.closed, 5000), 'the connection is closed');
      } finally {
        c.socket.destroy();
      }
    });
  }

  it('slow but legitimate: a request computing longer than the body timeout is answered', async () => {
    // Six requests queue on one instance of a ~0.2 s model: the last waits well past 300 ms.
    const res = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        fetch(`${server.httpUrl}/v2/models/slow/infer`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: json(i),
        }),
      ),
    );
    assert.deepEqual(
      res.map((r) => r.status),
      [200, 200, 200, 200, 200, 200],
    );
  });

  it('a keep-alive connection serves requests while used and closes when idle', async () => {
    const c = await rawConnect(server.httpUrl);
    try {
      c.write('GET /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n');
      assert.equal((await c.response()).status, 200);
      assert.ok(await within(c.closed, 5000), 'closed after idleTimeoutMs');
    } finally {
      c.socket.destroy();
    }
  });
});

describe('HTTP connection cap and body budget', () => {
  let server: RunningServer;
  let repo: string;
  before(async () => {
    repo = makeFixtureRepository();
    server = await startTestServer(repo, {
      maxConnections: 3,
      maxBodyBytes: 64 * 1024,
      maxBufferedBodyBytes: 100 * 1024,
    });
  });
  after(async () => {
    await server.close();
    rmSync(repo, { recursive: true, force: true });
  });

  /** A keep-alive connection that has been served once (so the server has counted it). */
  async function heldConnection() {
    const c = await rawConnect(server.httpUrl);
    c.write('GET /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.equal((await c.response()).status, 200);
    return c;
  }

  async function status(path: string): Promise<number> {
    const c = await rawConnect(server.httpUrl);
    c.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    const res = await c.response();
    c.socket.destroy();
    return res.status;
  }

  it('connections beyond the cap get 503 too_many_connections and are closed', async () => {
    const held = [await heldConnection(), await heldConnection(), await heldConnection()];
    try {
      for (const path of ['/v2/models/add', '/v2/models/add/infer']) {
        const c = await rawConnect(server.httpUrl);
        const method = path.endsWith('/infer') ? 'POST' : 'GET';
        const body = method === 'POST' ? json(1) : '';
        c.write(`${method} ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
        const res = await c.response(5000);
        assert.equal(res.status, 503, path);
        assert.equal(code(res), 'too_many_connections');
        assert.equal(res.headers['retry-after'], '1');
        assert.ok(await within(c.closed, 5000), 'the refused connection is closed');
      }
      // Probes are still answered: a connection flood must not get a live server restarted.
      assert.equal(await status('/v2/health/live'), 200);
    } finally {
      for (const c of held) c.socket.destroy();
    }
    // Once the held connections are gone, new ones are served again.
    await eventually(async () => (await status('/v2/models/add')) === 200, 'served again below the cap');
  });

  it('stalled uploads cannot hold more than maxBufferedBodyBytes: the next gets 503 body_buffer_full', async () => {
    // 60 KB declared and stalled: it holds 60 of the 100 KiB budget.
    const stalled = await rawConnect(server.httpUrl);
    stalled.write(
      'POST /v2/models/add/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 60000\r\n\r\n{',
    );
    const refusals: string[] = [];
    try {
      // Another 60 KB on each HTTP path does not fit; a chunked body does not fit once it has grown.
      for (const path of ['/v2/models/add/infer', '/v2/repository/index']) {
        const c = await rawConnect(server.httpUrl);
        c.write(`POST ${path} HTTP/1.1\r\nHost: x\r\n${ADMIN}Content-Length: 60000\r\n\r\n{`);
        const res = await c.response(5000);
        assert.equal(res.status, 503, path);
        refusals.push(code(res));
        c.socket.destroy();
      }
      const chunked = await rawConnect(server.httpUrl);
      chunked.write('POST /v2/models/add/infer HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n');
      for (let i = 0; i < 12; i++) chunked.write(`1000\r\n${' '.repeat(0x1000)}\r\n`); // 48 KiB
      const res = await chunked.response(5000);
      assert.equal(res.status, 503);
      refusals.push(code(res));
      chunked.socket.destroy();
    } finally {
      stalled.socket.destroy();
    }
    assert.deepEqual(refusals, ['body_buffer_full', 'body_buffer_full', 'body_buffer_full']);
    // The stalled upload's share comes back when its connection closes: a 60 KB body is served.
    const body = JSON.stringify({ ready: false, pad: 'x'.repeat(60_000) });
    await eventually(async () => {
      const r = await fetch(`${server.httpUrl}/v2/repository/index`, {
        method: 'POST',
        body,
        headers: adminHeaders(),
      });
      await r.arrayBuffer();
      return r.status === 200;
    }, 'a 60 KB body served once the stalled upload is gone');
  });
});

describe('connection limit settings', () => {
  it('refuses limits that contradict each other, naming the setting', () => {
    assert.throws(
      () => loadSettings({ headersTimeoutMs: 5000, bodyTimeoutMs: 1000 }, {}),
      (e: unknown) => e instanceof SettingsError && /bodyTimeoutMs.*headersTimeoutMs/.test(e.message),
    );
    assert.throws(
      () => loadSettings({ maxBodyBytes: 4096, maxBufferedBodyBytes: 2048 }, {}),
      (e: unknown) => e instanceof SettingsError && /maxBufferedBodyBytes.*maxBodyBytes/.test(e.message),
    );
    const d = loadSettings({}, {});
    assert.deepEqual(
      [d.headersTimeoutMs, d.bodyTimeoutMs, d.idleTimeoutMs, d.maxConnections, d.maxBufferedBodyBytes],
      [30_000, 300_000, 65_000, 1024, 256 * 1024 * 1024],
    );
  });
});
