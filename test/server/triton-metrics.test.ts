/**
 * `--metrics-format triton|both` (issue 18): Triton's metric names, types and labels on /metrics
 * after real requests, so Triton's Grafana dashboards read inferd unchanged; and the table in
 * docs/observability.md lists exactly the families defined.
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Metrics } from '../../src/observability/metrics.js';
import type { RunningServer } from '../../src/server.js';
import { makeFixtureRepository } from '../fixtures/repository.js';
import { startTestServer } from '../helpers/server.js';

const infer = (url: string, cols = 4): Promise<Response> => {
  const data = Array.from({ length: cols }, (_, i) => i);
  return fetch(url + '/v2/models/add/infer', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      inputs: [
        { name: 'a', shape: [1, cols], datatype: 'FP32', data },
        { name: 'b', shape: [1, cols], datatype: 'FP32', data },
      ],
    }),
  });
};

/** The value of one sample line, `name{labels} value`, or undefined when absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

const ADD = '{model="add",version="1"}';

describe('--metrics-format triton', () => {
  let server: RunningServer;
  let repo: string;
  before(async () => {
    repo = makeFixtureRepository();
    server = await startTestServer(repo, { metricsFormat: 'triton' });
  });
  after(async () => {
    await server.close();
    rmSync(repo, { recursive: true, force: true });
  });

  it("serves Triton's families with Triton's types and labels, counted from real requests", async () => {
    for (let i = 0; i < 3; i++) assert.equal((await infer(server.httpUrl)).status, 200);
    assert.equal((await infer(server.httpUrl, 3)).status, 400); // a shape the model refuses
    const text = await (await fetch(server.httpUrl + '/metrics')).text();
    assert.equal(sample(text, `nv_inference_request_success${ADD}`), 3);
    assert.equal(sample(text, 'nv_inference_request_failure{model="add",version="1",reason="OTHER"}'), 1);
    assert.equal(sample(text, `nv_inference_count${ADD}`), 3);
    const exec = sample(text, `nv_inference_exec_count${ADD}`)!;
    assert.ok(exec >= 1 && exec <= 3, `exec_count ${exec}`);
    for (const name of [
      'nv_inference_request_duration_us',
      'nv_inference_compute_infer_duration_us',
      'nv_inference_compute_input_duration_us',
      'nv_inference_compute_output_duration_us',
    ]) {
      assert.ok(sample(text, name + ADD)! > 0, `${name} is counted`);
      assert.match(text, new RegExp(`^# TYPE ${name} counter$`, 'm'));
    }
    assert.ok(sample(text, `nv_inference_queue_duration_us${ADD}`)! >= 0);
    // Microseconds: three tiny requests take far less than 10 s, and more than 1 µs.
    const requestUs = sample(text, `nv_inference_request_duration_us${ADD}`)!;
    assert.ok(requestUs > 1 && requestUs < 10_000_000, `request_duration_us ${requestUs}`);
    assert.equal(sample(text, `nv_inference_pending_request_count${ADD}`), 0);
    assert.match(text, /^# TYPE nv_inference_pending_request_count gauge$/m);
    assert.match(text, /^# TYPE nv_inference_request_success counter$/m);
    // Counters carry no _total suffix, as Triton's (prometheus-cpp) do.
    assert.doesNotMatch(text, /^nv_\w+_total\{/m);
    // Triton's names only: inferd's families are not served in this format.
    assert.doesNotMatch(text, /^inferd_/m);
  });
});

describe('--metrics-format both', () => {
  let server: RunningServer;
  let repo: string;
  before(async () => {
    repo = makeFixtureRepository();
    server = await startTestServer(repo, { metricsFormat: 'both' });
  });
  after(async () => {
    await server.close();
    rmSync(repo, { recursive: true, force: true });
  });

  it("serves inferd's and Triton's names from the same events", async () => {
    assert.equal((await infer(server.httpUrl)).status, 200);
    const text = await (await fetch(server.httpUrl + '/metrics')).text();
    assert.equal(sample(text, `nv_inference_request_success${ADD}`), 1);
    assert.equal(sample(text, `inferd_request_success_total${ADD}`), 1);
    assert.ok(text.includes('inferd_process_resident_memory_bytes'));
  });

  it('the default stays inferd: no nv_ names', async () => {
    const metrics = new Metrics();
    assert.doesNotMatch(await metrics.exposed.metrics(), /nv_inference/);
  });

  it('docs/observability.md lists exactly the Triton families defined', async () => {
    const defined = (await new Metrics('triton').exposed.getMetricsAsJSON()).map((m) => m.name).sort();
    const documented = [...readFileSync('docs/observability.md', 'utf8').matchAll(/^\| `(nv_\w+)` \|/gm)]
      .map((m) => m[1]!)
      .sort();
    assert.deepEqual(documented, defined);
  });
});
