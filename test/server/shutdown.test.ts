/** SIGTERM drains: readiness 503 at once, in-flight requests all complete, then exit 0. */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { makeFixtureRepository } from '../fixtures/repository.js';
import { spawnServer } from '../helpers/spawn.js';

describe('graceful shutdown', () => {
  let repo: string;
  before(() => {
    repo = makeFixtureRepository({ slowDepth: 60 });
  });
  after(() => rmSync(repo, { recursive: true, force: true }));

  it('SIGTERM: in-flight requests complete, readiness is 503, exit code 0', async () => {
    const { proc: child, url } = await spawnServer([
      '--model-repository',
      repo,
      '--auth',
      'off',
      '--data-dir',
      repo,
    ]);
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
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
