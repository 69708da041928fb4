/**
 * The Cloud Run container contract against the real CLI: the port from PORT (and nothing on the
 * command line but `serve --model-repository`), and SIGTERM during an in-flight request: readiness
 * turns 503, the request still finishes with 200, and the process exits 0 within Cloud Run's 10 s
 * grace period.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { makeFixtureRepository } from '../fixtures/repository.js';
import { freePort } from '../helpers/spawn.js';
import { spawnPlatformServer, type PlatformServer } from './helpers.js';

/** Cloud Run sends SIGKILL this long after SIGTERM. */
const GRACE_MS = 10_000;

describe('Cloud Run: PORT and SIGTERM', () => {
  let repo: string;
  let server: PlatformServer;
  before(async () => {
    repo = makeFixtureRepository({ slowDepth: 60 });
    const port = await freePort();
    server = await spawnPlatformServer(
      ['serve', '--model-repository', repo],
      { PORT: String(port), INFERD_V2_AUTH: 'off' },
      port,
      '/v2/health/ready',
    );
  });
  after(async () => {
    await server?.stop();
    if (repo) rmSync(repo, { recursive: true, force: true });
  });

  it('listens on $PORT; SIGTERM mid-request: the request finishes, exit 0 within 10 s', async () => {
    // spawnPlatformServer found it ready on the port given only as $PORT.
    const exited = new Promise<{ code: number | null; at: number }>((resolve) =>
      server.proc.once('exit', (code) => resolve({ code, at: performance.now() })),
    );
    const inflight = fetch(server.url + '/v2/models/slow/infer', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: [{ name: 'x', shape: [1, 1], datatype: 'FP32', data: [7] }] }),
    });
    // The request is in the server (queued or computing) before the signal.
    let pending = false;
    for (let i = 0; i < 400 && !pending; i++) {
      const m = await (await fetch(server.url + '/metrics')).text();
      pending = /inferd_pending_requests\{model="slow",version="1"\} [1-9]/.test(m);
      if (!pending) await new Promise((r) => setTimeout(r, 10));
    }
    assert.ok(pending, 'the request reached the model before SIGTERM');
    const signaled = performance.now();
    server.proc.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(
      (await fetch(server.url + '/v2/health/ready')).status,
      503,
      'readiness is 503 while draining',
    );
    assert.equal((await fetch(server.url + '/ping')).status, 503, "so is SageMaker's /ping");
    const res = await inflight;
    assert.equal(res.status, 200);
    const body = (await res.json()) as { outputs: Array<{ data: number[] }> };
    assert.ok(Math.abs(body.outputs[0]!.data[0]! - 7) < 1e-3, JSON.stringify(body));
    const { code, at } = await exited;
    assert.equal(code, 0, server.stderr());
    assert.ok(at - signaled < GRACE_MS, `exited ${Math.round(at - signaled)} ms after SIGTERM`);
  });
});
