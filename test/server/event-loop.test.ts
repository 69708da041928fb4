/**
 * Inference runs in worker threads: while a slow model computes, liveness and another model answer.
 * Asserts ordering and completion, never wall-clock budgets.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../src/server.js';
import { makeFixtureRepository } from '../fixtures/repository.js';
import { startTestServer } from '../helpers/server.js';

describe('event loop stays free', () => {
  let server: RunningServer;
  let repo: string;
  before(async () => {
    repo = makeFixtureRepository({ slowDepth: 120 });
    server = await startTestServer(repo);
  });
  after(async () => {
    await server.close();
    rmSync(repo, { recursive: true, force: true });
  });

  it('health and another model answer while the slow model computes', async () => {
    const order: string[] = [];
    const slow = fetch(server.httpUrl + '/v2/models/slow/infer', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: [{ name: 'x', shape: [1, 1], datatype: 'FP32', data: [2] }] }),
    }).then(async (r) => {
      order.push('slow');
      return r;
    });
    // Wait until the slow request is executing (pending gauge / stats would also do).
    while (
      server.service.statistics('slow')[0]!.inference_count === 0 &&
      server.service.models.get('slow')!.versions.get('1')!.scheduler!.pending === 0
    ) {
      await new Promise((r) => setTimeout(r, 1));
    }
    const live = await fetch(server.httpUrl + '/v2/health/live');
    order.push('live');
    assert.equal(live.status, 200);
    const add = await fetch(server.httpUrl + '/v2/models/add/infer', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        inputs: [
          { name: 'a', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] },
          { name: 'b', shape: [1, 4], datatype: 'FP32', data: [1, 1, 1, 1] },
        ],
      }),
    });
    order.push('add');
    assert.equal(add.status, 200);
    const res = await slow;
    assert.equal(res.status, 200);
    const body = (await res.json()) as { outputs: Array<{ data: number[] }> };
    assert.ok(Math.abs(body.outputs[0]!.data[0]! - 2) < 1e-3);
    assert.deepEqual(order, ['live', 'add', 'slow']);
  });
});
