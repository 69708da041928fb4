/**
 * Issue 23, finding 8: timeouts beyond 2³¹−1 ms (24.8 days) fired at once, because Node waits 1 ms
 * for a longer setTimeout: 280 of 320 requests with a huge `timeout` got 504 after 1 ms. The request
 * parameter and a model's default_timeout_microseconds are now clamped. Requests queue behind a
 * slow model so that an early timer would expire them.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../src/server.js';
import { makeFixtureRepository, slowModel, writeModel } from '../fixtures/repository.js';
import { startTestServer } from '../helpers/server.js';

/** 35 days in microseconds: beyond what a timer can wait. */
const LONG_US = 35 * 86_400 * 1e6;

describe('REST timeouts longer than a timer can wait', () => {
  let server: RunningServer;
  let repo: string;
  before(async () => {
    repo = makeFixtureRepository();
    const slow = slowModel(24);
    writeModel(repo, 'busy', 1, slow, { max_batch_size: 0 });
    writeModel(repo, 'busy_default', 1, slow, {
      max_batch_size: 0,
      dynamic_batching: { default_timeout_microseconds: LONG_US },
    });
    server = await startTestServer(repo);
  });
  after(async () => {
    await server.close();
    rmSync(repo, { recursive: true, force: true });
  });

  async function burst(model: string, parameters?: Record<string, unknown>): Promise<number[]> {
    const body = JSON.stringify({
      ...(parameters ? { parameters } : {}),
      inputs: [{ name: 'x', shape: [1, 1], datatype: 'FP32', data: [2] }],
    });
    const res = await Promise.all(
      Array.from({ length: 4 }, () =>
        fetch(`${server.httpUrl}/v2/models/${model}/infer`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        }),
      ),
    );
    return Promise.all(res.map(async (r) => (await r.arrayBuffer(), r.status)));
  }

  it("a 35-day 'timeout' parameter does not expire queued requests", async () => {
    assert.deepEqual(await burst('busy', { timeout: LONG_US }), [200, 200, 200, 200]);
  });

  it('a 35-day default_timeout_microseconds does not expire queued requests', async () => {
    assert.deepEqual(await burst('busy_default'), [200, 200, 200, 200]);
  });
});
