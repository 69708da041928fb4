/**
 * Scheduler behaviour through the real server and ONNX Runtime: batches form, the queue is bounded,
 * deadlines and cancellations drop queued work without computing it, priorities order the queue, and
 * an overload burst ends with every request answered. Asserts outcomes and counters, never timings.
 */
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../src/server.js';
import { makeFixtureRepository, slowModel } from '../fixtures/repository.js';
import { startTestServer } from '../helpers/server.js';

const json = { 'content-type': 'application/json' };

describe('scheduler', () => {
  let server: RunningServer;
  let repo: string;
  before(async () => {
    repo = makeFixtureRepository();
    mkdirSync(join(repo, 'busy', '1'), { recursive: true });
    writeFileSync(join(repo, 'busy', '1', 'model.onnx'), slowModel(100));
    writeFileSync(
      join(repo, 'busy', 'config.json'),
      JSON.stringify({ max_batch_size: 0, dynamic_batching: { max_queue_size: 2, priority_levels: 3 } }),
    );
    server = await startTestServer(repo);
  });
  after(async () => {
    await server.close();
    rmSync(repo, { recursive: true, force: true });
  });

  const scheduler = (model: string) => server.service.models.get(model)!.versions.get('1')!.scheduler!;
  const stats = (model: string) => server.service.statistics(model)[0]!;
  const busy = (x: number, parameters?: Record<string, unknown>, signal?: AbortSignal) =>
    fetch(server.httpUrl + '/v2/models/busy/infer', {
      method: 'POST',
      headers: json,
      body: JSON.stringify({
        inputs: [{ name: 'x', shape: [1, 1], datatype: 'FP32', data: [x] }],
        ...(parameters ? { parameters } : {}),
      }),
      signal,
    });
  const until = async (cond: () => boolean) => {
    while (!cond()) await new Promise((r) => setTimeout(r, 1));
  };

  it('batches form and every response equals the unbatched result', async () => {
    const n = 16;
    // A burst of n requests: every answer must equal the unbatched result. Whether they arrive
    // within the 2 ms window depends on the machine's load (a busy CI host spread one burst over
    // more than that), so up to three bursts are sent until one forms a batch.
    const burst = async (): Promise<number> => {
      const before = stats('add');
      const responses = await Promise.all(
        Array.from({ length: n }, (_, i) =>
          fetch(server.httpUrl + '/v2/models/add/infer', {
            method: 'POST',
            headers: json,
            body: JSON.stringify({
              inputs: [
                { name: 'a', shape: [1, 4], datatype: 'FP32', data: [i, i, i, i] },
                { name: 'b', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] },
              ],
            }),
          }).then((r) => r.json() as Promise<{ outputs: Array<{ name: string; data: number[] }> }>),
        ),
      );
      responses.forEach((r, i) => {
        assert.deepEqual(r.outputs.find((o) => o.name === 'sum')!.data, [i + 1, i + 2, i + 3, i + 4]);
        assert.deepEqual(r.outputs.find((o) => o.name === 'diff')!.data, [i - 1, i - 2, i - 3, i - 4]);
      });
      const after = stats('add');
      assert.equal(after.inference_count - before.inference_count, n);
      return after.execution_count - before.execution_count;
    };
    let executions = n;
    for (let attempt = 0; attempt < 3 && executions >= n; attempt++) executions = await burst();
    assert.ok(executions < n, `expected fewer executions than ${n} requests, got ${executions}`);
    assert.ok(stats('add').batch_stats.some((b) => b.batch_size > 1));
  });

  it('a full queue refuses at once with 503 queue_full and Retry-After', async () => {
    const first = busy(1);
    await until(() => scheduler('busy').pending >= 1); // executing: the one instance is taken
    const rest = Array.from({ length: 5 }, (_, i) => busy(i + 2));
    const results = await Promise.all([first, ...rest]);
    const statuses = results.map((r) => r.status);
    const refused = results.filter((r) => r.status === 503);
    assert.equal(statuses.filter((s) => s === 200).length, 3, `statuses ${statuses.join(',')}`);
    assert.equal(refused.length, 3);
    for (const r of refused) {
      assert.equal(r.headers.get('retry-after'), '1');
      assert.equal(((await r.json()) as { code: string }).code, 'queue_full');
    }
  });

  it('a queued request past its deadline is answered 504 and never computed', async () => {
    const before = stats('busy');
    const first = busy(1);
    await until(() => scheduler('busy').pending >= 1);
    const late = await busy(2, { timeout: 1000 }); // 1 ms, in microseconds as Triton's schedule policy
    assert.equal(late.status, 504);
    assert.equal(((await late.json()) as { code: string }).code, 'deadline_exceeded');
    assert.equal((await first).status, 200);
    await until(() => scheduler('busy').pending === 0);
    const after = stats('busy');
    assert.equal(after.execution_count - before.execution_count, 1, 'only the first request was computed');
  });

  it("a disconnected client's queued request is dropped, not computed", async () => {
    const before = stats('busy');
    const first = busy(1);
    await until(() => scheduler('busy').pending >= 1);
    const controller = new AbortController();
    const gone = busy(2, undefined, controller.signal).catch((e: unknown) => e);
    await until(() => scheduler('busy').pending >= 2);
    controller.abort();
    assert.ok((await gone) instanceof Error);
    await until(() => scheduler('busy').pending <= 1);
    assert.equal((await first).status, 200);
    await until(() => scheduler('busy').pending === 0);
    assert.equal(stats('busy').execution_count - before.execution_count, 1);
    const metrics = await (await fetch(server.httpUrl + '/metrics')).text();
    assert.match(metrics, /inferd_request_failure_total\{model="busy",version="1",reason="canceled"\} 1/);
  });

  it('higher priority (1) is served before lower priority queued earlier', async () => {
    const order: string[] = [];
    const first = busy(1);
    await until(() => scheduler('busy').pending >= 1);
    const low = busy(2, { priority: 3 }).then(() => order.push('low'));
    await until(() => scheduler('busy').pending >= 2);
    const high = busy(3, { priority: 1 }).then(() => order.push('high'));
    await Promise.all([first, low, high]);
    assert.deepEqual(order, ['high', 'low']);
  });

  it('an overload burst ends with every request answered and the server healthy', async () => {
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => busy(i).then((r) => r.status)));
    assert.equal(results.length, 100);
    assert.ok(
      results.every((s) => s === 200 || s === 503),
      `statuses: ${[...new Set(results)].join(',')}`,
    );
    assert.ok(results.filter((s) => s === 503).length >= 90);
    assert.equal((await fetch(server.httpUrl + '/v2/health/ready')).status, 200);
    assert.equal((await busy(7)).status, 200);
  });
});
