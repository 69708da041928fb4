/**
 * `inferd bench` against a real server for about a second per step: the report's structure and
 * that its counts add up. No timing assertions (the machine's speed is not under test).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { formatReport } from '../../src/loadgen/report.js';
import { closedLoop, OUTPUT_MISMATCH } from '../../src/loadgen/load.js';
import { runBench, type BenchOptions, type StepReport } from '../../src/loadgen/run.js';
import type { ClientRequest, InferClient } from '../../src/oip-client/types.js';
import { synthRequest } from '../../src/loadgen/synth.js';
import type { RunningServer } from '../../src/server.js';
import { makeFixtureRepository } from '../fixtures/repository.js';
import { startTestServer } from '../helpers/server.js';

function assertConsistent(s: StepReport): void {
  assert.ok(s.sent > 0, 'the step sent requests');
  assert.equal(s.ok + s.failed, s.sent, 'every request sent is answered or counted as an error');
  assert.equal(
    Object.values(s.errors).reduce((a, b) => a + b, 0),
    s.failed,
    'errors by code add up to the failures',
  );
  assert.equal(s.latencyMs.count, s.ok, 'one latency sample per success');
  assert.ok(s.latencyMs.p50 <= s.latencyMs.p90 && s.latencyMs.p90 <= s.latencyMs.p99);
  assert.ok(s.latencyMs.p99 <= s.latencyMs.max);
  assert.ok(s.throughput > 0 && s.durationS > 0);
}

describe('inferd bench', () => {
  let server: RunningServer;
  let repo: string;
  let base: BenchOptions;
  let inputDir: string;
  let inputs = 0;
  /** Writes `body` as JSON to a fresh file for --input; the files go with the suite. */
  const inputFile = (body: unknown): string => {
    const file = join(inputDir, `input-${inputs++}.json`);
    writeFileSync(file, JSON.stringify(body));
    return file;
  };
  before(async () => {
    inputDir = mkdtempSync(join(tmpdir(), 'inferd-bench-'));
    repo = makeFixtureRepository();
    server = await startTestServer(repo);
    base = {
      url: server.httpUrl,
      model: 'add',
      transport: 'rest-json',
      concurrency: [1, 4],
      durationS: 0.5,
      timeoutMs: 10_000,
    };
  });
  after(async () => {
    await server.close();
    rmSync(repo, { recursive: true, force: true });
    rmSync(inputDir, { recursive: true, force: true });
  });

  it('runs one closed-loop step per concurrency level, with the server split', async () => {
    const lines: string[] = [];
    const report = await runBench({ ...base, durationS: 1.1, onProgress: (l) => lines.push(l) });
    assert.deepEqual(
      report.request.map((t) => [t.name, t.datatype, t.shape]),
      [
        ['a', 'FP32', [1, 4]],
        ['b', 'FP32', [1, 4]],
      ],
    );
    assert.deepEqual(
      report.steps.map((s) => [s.mode, s.load]),
      [
        ['concurrency', 1],
        ['concurrency', 4],
      ],
    );
    for (const s of report.steps) {
      assertConsistent(s);
      assert.equal(s.failed, 0);
      assert.ok(s.server, 'stats were read');
      // The server computed exactly the rows the step sent (one row each), no more.
      assert.equal(s.server.inferences, s.ok);
      assert.ok(s.server.executions >= 1 && s.server.executions <= s.server.inferences);
      assert.ok(s.server.avgBatch >= 1);
    }
    assert.ok(lines.length >= 1, 'progress was reported');
    assert.match(formatReport(report), /\| c=4 \|/);
  });

  it('runs an open-loop step at a fixed rate and sends rate × duration requests', async () => {
    const report = await runBench({ ...base, rate: 100, durationS: 1 });
    assert.equal(report.steps.length, 1);
    const s = report.steps[0]!;
    assert.equal(s.mode, 'rate');
    assert.equal(s.sent, 100);
    assertConsistent(s);
    assert.equal(JSON.parse(JSON.stringify(report)).steps[0].sent, 100, 'the report is plain JSON');
  });

  it('sends a request body from --input and counts server errors by status and code', async () => {
    const file = inputFile({
      inputs: [
        { name: 'a', shape: [2, 4], datatype: 'FP32', data: [1, 2, 3, 4, 5, 6, 7, 8] },
        { name: 'b', shape: [2, 4], datatype: 'FP32', data: [1, 1, 1, 1, 1, 1, 1, 1] },
      ],
    });
    const report = await runBench({ ...base, inputFile: file, concurrency: [2] });
    const s = report.steps[0]!;
    assertConsistent(s);
    assert.deepEqual(report.request[0]!.shape, [2, 4]);
    assert.equal(s.server?.inferences, 2 * s.ok, 'two batch rows per request');
    // A model that does not exist fails before measuring, with the server's code.
    await assert.rejects(runBench({ ...base, model: 'nope' }), /not found|nope/);
  });

  it("sends perf_analyzer's input-data entries round-robin", async () => {
    const entry = (v: number) => ({ a: [v, v, v, v], b: { content: [1, 1, 1, 1], shape: [4] } });
    const file = inputFile({ data: [entry(1), entry(2), entry(3)] });
    const report = await runBench({ ...base, inputFile: file, concurrency: [1] });
    const s = report.steps[0]!;
    assertConsistent(s);
    assert.equal(report.requestCount, 3);
    assert.deepEqual(report.request[0]!.shape, [1, 4], 'batch-1 requests, as perf_analyzer sends');
    assert.equal(s.errors['400 invalid_input'], undefined);
    assert.match(formatReport(report), /first of 3, sent round-robin/);
  });

  it("checks answers against perf_analyzer's validation_data: before measuring, and in every step", async () => {
    const data = [1, 2].map((v) => ({ a: [v, v, v, v], b: [1, 2, 3, 4] }));
    const right = [1, 2].map((v) => ({
      sum: [v + 1, v + 2, v + 3, v + 4],
      diff: [v - 1, v - 2, v - 3, v - 4],
    }));
    const good = inputFile({ data, validation_data: right });
    const report = await runBench({ ...base, inputFile: good, concurrency: [2] });
    assertConsistent(report.steps[0]!);
    assert.equal(report.steps[0]!.failed, 0, JSON.stringify(report.steps[0]!.errors));

    const wrong = inputFile({ data, validation_data: [right[0], { sum: [0, 0, 0, 0] }] });
    await assert.rejects(
      runBench({ ...base, inputFile: wrong, concurrency: [2] }),
      /request 1 of --input .*: output 'sum' differs from its validation_data/,
    );
  });

  it('the load loops count answers that fail validation_data as errors', async () => {
    const client = {
      infer: async () => ({ modelName: 'm', modelVersion: '1', outputs: [] }),
    } as unknown as InferClient;
    const expected = [[{ name: 'y', datatype: 'FP32' as const, shape: [1], data: new Float32Array([1]) }]];
    const counters = await closedLoop(
      { client, requests: [{ modelName: 'm', inputs: [] }], expected, durationMs: 20, timeoutMs: 1000 },
      1,
    );
    assert.ok(counters.sent > 0);
    assert.equal(counters.ok, 0);
    assert.equal(counters.errors[OUTPUT_MISMATCH], counters.sent);
  });

  it('the load loops send their requests round-robin', async () => {
    const seen: ClientRequest[] = [];
    const client = {
      infer: async (r: ClientRequest) => {
        seen.push(r);
        await new Promise((res) => setTimeout(res, 1));
        return { modelName: 'm', outputs: [] };
      },
    } as unknown as InferClient;
    const requests = [1, 2, 3].map((v) => ({ modelName: `m${v}`, inputs: [] }));
    const counters = await closedLoop({ client, requests, durationMs: 100, timeoutMs: 1000 }, 1);
    assert.ok(counters.sent >= 4, `sent ${counters.sent}`);
    assert.deepEqual(
      seen.map((r) => r.modelName),
      seen.map((_, i) => `m${(i % 3) + 1}`),
    );
  });

  it('synthesises every datatype, with dynamic dims as 1 and BYTES as short strings', () => {
    const req = synthRequest({
      name: 'm',
      versions: ['1'],
      platform: 'onnxruntime_onnx',
      inputs: [
        { name: 'x', datatype: 'INT64', shape: [-1, 3] },
        { name: 's', datatype: 'BYTES', shape: [-1] },
        { name: 'h', datatype: 'FP16', shape: [2] },
      ],
      outputs: [],
    });
    assert.deepEqual(
      req.inputs.map((t) => t.shape),
      [[1, 3], [1], [2]],
    );
    assert.equal(typeof (req.inputs[0]!.data as BigInt64Array)[0], 'bigint');
    const text = new TextDecoder().decode((req.inputs[1]!.data as Uint8Array[])[0]);
    assert.ok(text.length > 0 && text.length <= 40);
  });
});
