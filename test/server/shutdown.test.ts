/** SIGTERM drains: readiness 503 at once, in-flight requests all complete, then exit 0. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { makeFixtureRepository } from '../fixtures/repository.js';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

async function waitReady(url: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    try {
      if ((await fetch(url + '/v2/health/ready')).status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('server did not become ready');
}

describe('graceful shutdown', () => {
  let repo: string;
  before(() => {
    repo = makeFixtureRepository({ slowDepth: 60 });
  });
  after(() => rmSync(repo, { recursive: true, force: true }));

  it('SIGTERM: in-flight requests complete, readiness is 503, exit code 0', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const child = spawn(
      process.execPath,
      [
        'bin/inferd.js',
        'serve',
        '--model-repository',
        repo,
        '--http-port',
        String(port),
        '--host',
        '127.0.0.1',
        '--log-level',
        'warn',
      ],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await waitReady(url);
    const body = JSON.stringify({ inputs: [{ name: 'x', shape: [1, 1], datatype: 'FP32', data: [5] }] });
    const inflight = Array.from({ length: 4 }, () =>
      fetch(url + '/v2/models/slow/infer', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      }),
    );
    // Let the requests reach the server before the signal.
    for (let i = 0; i < 200; i++) {
      const m = await (await fetch(url + '/metrics')).text();
      if (/inferd_pending_requests\{model="slow",version="1"\} [1-9]/.test(m)) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 20));
    // The listener stays open while draining, so probes see the 503 (not a refused connection).
    const ready = await fetch(url + '/v2/health/ready');
    assert.equal(ready.status, 503, 'readiness turns 503 while draining');
    const late = await fetch(url + '/v2/models/slow/infer', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    assert.equal(late.status, 503, 'new work is refused while draining');
    assert.equal(((await late.json()) as { code: string }).code, 'server_draining');
    const statuses = await Promise.all(inflight.map(async (p) => (await p).status));
    assert.deepEqual(statuses, [200, 200, 200, 200]);
    assert.equal(await exited, 0);
  });
});
