/** Statistics (Triton's shape) and Prometheus metrics after real requests. */
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Metrics } from '../../src/observability/metrics.js';
import type { RunningServer } from '../../src/server.js';
import { makeFixtureRepository } from '../fixtures/repository.js';
import { adminHeaders, startTestServer } from '../helpers/server.js';

describe('statistics and metrics', () => {
  let server: RunningServer;
  let repo: string;
  before(async () => {
    repo = makeFixtureRepository({ broken: true });
    server = await startTestServer(repo);
  });
  after(async () => {
    await server.close();
    rmSync(repo, { recursive: true, force: true });
  });

  const infer = (data: number[], cols = 4) =>
    fetch(server.httpUrl + '/v2/models/add/infer', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        inputs: [
          { name: 'a', shape: [1, cols], datatype: 'FP32', data },
          { name: 'b', shape: [1, cols], datatype: 'FP32', data },
        ],
      }),
    });

  it('counts successes, failures, queue and compute in Triton fields', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await infer([1, 2, 3, 4])).status, 200);
    // A shape the model refuses: counted as a failure of this model version (reason "invalid").
    assert.equal((await infer([1, 2, 3], 3)).status, 400);
    const res = await fetch(server.httpUrl + '/v2/models/add/stats', { headers: adminHeaders() });
    const body = (await res.json()) as {
      model_stats: Array<
        Record<string, unknown> & { inference_stats: Record<string, { count: number; ns: number }> }
      >;
    };
    const s = body.model_stats[0]!;
    assert.equal(s.name, 'add');
    assert.equal(s.version, '1');
    assert.equal(s.inference_stats.success!.count, 3);
    assert.equal(s.inference_stats.fail!.count, 1);
    assert.equal(s.inference_stats.queue!.count, 3);
    assert.equal(s.inference_stats.compute_infer!.count, 3);
    assert.ok(s.inference_stats.compute_infer!.ns > 0);
    assert.equal(s.inference_count, 3);
    assert.ok((s.execution_count as number) >= 1 && (s.execution_count as number) <= 3);
    const all = (await (
      await fetch(server.httpUrl + '/v2/models/stats', { headers: adminHeaders() })
    ).json()) as {
      model_stats: unknown[];
    };
    assert.ok(all.model_stats.length >= 3);
    const v = await fetch(server.httpUrl + '/v2/models/add/versions/1/stats', { headers: adminHeaders() });
    assert.equal(v.status, 200);
  });

  it('exposes the documented metric names', async () => {
    await infer([1, 1, 1, 1]);
    const text = await (await fetch(server.httpUrl + '/metrics')).text();
    for (const name of [
      'inferd_request_success_total{model="add",version="1"}',
      'inferd_request_failure_total{model="add",version="1",reason="invalid"}',
      'inferd_request_duration_seconds_bucket',
      'inferd_queue_duration_seconds_bucket',
      'inferd_compute_duration_seconds_bucket',
      'inferd_batch_size_bucket',
      'inferd_inference_count_total',
      'inferd_execution_count_total',
      'inferd_pending_requests',
      'inferd_model_state{model="add",version="1",state="READY"} 1',
      'inferd_model_state{model="corrupt",version="1",state="UNAVAILABLE"} 1',
      'inferd_process_resident_memory_bytes',
    ]) {
      assert.ok(text.includes(name), `missing ${name}`);
    }
    // Where the ONNX executions ran: counted at scrape time, at least the one above.
    const placed = [
      ...text.matchAll(
        /^inferd_executions_by_placement_total\{model="add",version="1",placement="(worker|inline)"\} (\d+)$/gm,
      ),
    ];
    assert.equal(placed.length, 2, 'one series per placement');
    assert.ok(placed.reduce((n, m) => n + Number(m[2]), 0) >= 1);
  });

  it('docs/observability.md lists exactly the metrics the server defines', async () => {
    const metrics = new Metrics();
    const defined = (await metrics.registry.getMetricsAsJSON())
      .map((m) => m.name)
      .filter((n) => !n.startsWith('inferd_process_') && !n.startsWith('inferd_nodejs_'))
      .sort();
    const documented = [...readFileSync('docs/observability.md', 'utf8').matchAll(/^\| `(inferd_\w+)` \|/gm)]
      .map((m) => m[1]!)
      .sort();
    assert.deepEqual(documented, defined);
  });

  it('repository index lists every model with state and reason', async () => {
    const res = await fetch(server.httpUrl + '/v2/repository/index', {
      method: 'POST',
      headers: adminHeaders(),
    });
    const index = (await res.json()) as Array<{
      name: string;
      version?: string;
      state: string;
      reason: string;
    }>;
    const byName = new Map(index.map((e) => [e.name, e]));
    assert.equal(byName.get('add')!.state, 'READY');
    assert.equal(byName.get('bad_config')!.state, 'UNAVAILABLE');
    assert.match(byName.get('bad_config')!.reason, /config\.json/);
    assert.match(byName.get('corrupt')!.reason, /ONNX Runtime could not load/);
    assert.match(byName.get('missing_file')!.reason, /model file not found/);
    const ready = (await (
      await fetch(server.httpUrl + '/v2/repository/index', {
        method: 'POST',
        headers: adminHeaders(),
        body: '{"ready": true}',
      })
    ).json()) as unknown[];
    assert.ok(ready.length < index.length);
  });
});
