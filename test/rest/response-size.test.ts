/**
 * Responses are bounded (issue 23, finding 10a): a small request can ask a model for a large output
 * (a 7.4 MB request to ocr-rec returned 252 MB of JSON; a batch of 10 failed with 500 "Invalid
 * string length"). The service refuses outputs over --max-response-bytes with 413
 * response_too_large on every encoding, pipelines' inner calls excepted; and the JSON encoder
 * refuses what could exceed a JavaScript string, pointing to binary outputs, which still work.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildModel, type OnnxTypeName } from '../../src/training/graph-builder.js';
import type { RunningServer } from '../../src/server.js';
import { writeModel } from '../fixtures/repository.js';
import { startTestServer } from '../helpers/server.js';

/** y = x broadcast to the shape the client sends: a few bytes in, as many out as asked. */
function expandModel(type: OnnxTypeName): Uint8Array {
  return buildModel({
    inputs: [
      { name: 'x', type, shape: [1, 1] },
      { name: 'shape', type: 'INT64', shape: [2] },
    ],
    outputs: [{ name: 'y', type, shape: ['a', 'b'] }],
    nodes: [{ op: 'Expand', inputs: ['x', 'shape'], outputs: ['y'] }],
  });
}

function meanModel(): Uint8Array {
  return buildModel({
    inputs: [{ name: 'y', type: 'FLOAT', shape: ['a', 'b'] }],
    outputs: [{ name: 'm', type: 'FLOAT', shape: [1, 1] }],
    nodes: [{ op: 'ReduceMean', inputs: ['y'], outputs: ['m'], attrs: { keepdims: 1, axes: [0, 1] } }],
  });
}

function makeRepository(): string {
  const root = mkdtempSync(join(tmpdir(), 'inferd-repo-'));
  writeModel(root, 'expand32', 1, expandModel('FLOAT'), {});
  writeModel(root, 'expand16', 1, expandModel('FLOAT16'), {});
  writeModel(root, 'mean', 1, meanModel(), {});
  // A pipeline whose inner call is large and whose answer is small.
  mkdirSync(join(root, 'expand_mean', '1'), { recursive: true });
  writeFileSync(
    join(root, 'expand_mean', 'config.json'),
    JSON.stringify({
      backend: 'pipeline',
      input: [
        { name: 'x', data_type: 'TYPE_FP32', dims: [1, 1] },
        { name: 'shape', data_type: 'TYPE_INT64', dims: [2] },
      ],
      output: [{ name: 'm', data_type: 'TYPE_FP32', dims: [1, 1] }],
      pipeline: {
        steps: [
          { model: 'expand32', inputs: { x: 'x', shape: 'shape' }, outputs: { y: 'big' } },
          { model: 'mean', inputs: { y: 'big' }, outputs: { m: 'm' } },
        ],
      },
    }),
  );
  return root;
}

const request = (x: number, shape: [number, number], binary = false): string =>
  JSON.stringify({
    inputs: [
      { name: 'x', datatype: 'FP32', shape: [1, 1], data: [x] },
      { name: 'shape', datatype: 'INT64', shape: [2], data: shape },
    ],
    ...(binary ? { parameters: { binary_data_output: true } } : {}),
  });

async function post(
  server: RunningServer,
  model: string,
  body: string,
): Promise<{ status: number; text: string; bytes: number }> {
  const res = await fetch(`${server.httpUrl}/v2/models/${model}/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
  const buf = Buffer.from(await res.arrayBuffer());
  const json = res.headers.get('inference-header-content-length');
  const text = buf.subarray(0, json === null ? buf.length : Number(json)).toString('utf8');
  return { status: res.status, text, bytes: buf.length };
}

describe('response size', () => {
  let repo: string;
  before(() => {
    repo = makeRepository();
  });
  after(() => rmSync(repo, { recursive: true, force: true }));

  describe('--max-response-bytes 1 MiB', () => {
    let server: RunningServer;
    before(async () => {
      server = await startTestServer(repo, { maxResponseBytes: 1024 * 1024 });
    });
    after(async () => server.close());

    it('refuses 4 MB of outputs with 413 response_too_large saying what to do, in JSON and binary', async () => {
      const small = await post(server, 'expand32', request(1, [100, 100]));
      assert.equal(small.status, 200, small.text);
      for (const binary of [false, true]) {
        const { status, text } = await post(server, 'expand32', request(1, [1000, 1000], binary));
        assert.equal(status, 413, text);
        const body = JSON.parse(text) as { error: string; code: string };
        assert.equal(body.code, 'response_too_large');
        assert.match(
          body.error,
          /model 'expand32' produced 4000000 bytes of outputs \('y'\), more than the limit of 1048576 \(--max-response-bytes\): send fewer rows per request, or ask for fewer outputs/,
        );
      }
      // The server goes on serving.
      assert.equal((await post(server, 'expand32', request(1, [10, 10]))).status, 200);
    });

    it('bounds JSON text by the same limit: outputs under it in bytes but not as JSON are served in binary only', async () => {
      // 200 × 1000 FP32 = 800,000 bytes, under 1 MiB; as JSON up to 26 characters each: 5.2 M.
      const json = await post(server, 'expand32', request(1 / 3, [200, 1000]));
      assert.equal(json.status, 413, json.text.slice(0, 300));
      const refusal = JSON.parse(json.text) as { error: string; code: string };
      assert.equal(refusal.code, 'response_too_large');
      assert.match(
        refusal.error,
        /as JSON, more than a JSON response can hold \(1048576, --max-response-bytes\)/,
      );
      const binary = await post(server, 'expand32', request(1 / 3, [200, 1000], true));
      assert.equal(binary.status, 200, binary.text);
      assert.ok(binary.bytes > 800_000, `${binary.bytes} bytes`);
    });

    it("exempts a pipeline's inner calls: only what goes to the client is bounded", async () => {
      const { status, text } = await post(server, 'expand_mean', request(0.5, [1000, 1000]));
      assert.equal(status, 200, text);
      const body = JSON.parse(text) as { outputs: Array<{ name: string; data: number[] }> };
      assert.deepEqual(body.outputs[0]!.data, [0.5]);
    });
  });

  describe('default limits', () => {
    let server: RunningServer;
    before(async () => {
      server = await startTestServer(repo);
    });
    after(async () => server.close());

    it('refuses outputs whose JSON could exceed a JavaScript string, and serves them in binary', async () => {
      // 26 M FP16 elements = 52 MB, under the 64 MiB default; as JSON each -5.960464477539063e-8
      // takes 22 characters: 572 M, past V8's 536.9 M limit ("Invalid string length", a 500).
      const body = (binary: boolean): string =>
        JSON.stringify({
          inputs: [
            { name: 'x', datatype: 'FP16', shape: [1, 1], data: [-5.960464477539063e-8] },
            { name: 'shape', datatype: 'INT64', shape: [2], data: [1, 26_000_000] },
          ],
          ...(binary ? { parameters: { binary_data_output: true } } : {}),
        });
      const json = await post(server, 'expand16', body(false));
      assert.equal(json.status, 413, json.text.slice(0, 300));
      const refusal = JSON.parse(json.text) as { error: string; code: string };
      assert.equal(refusal.code, 'response_too_large');
      assert.match(refusal.error, /as JSON, more than a JSON response can hold/);
      assert.match(refusal.error, /binary outputs \(parameter "binary_data_output": true, or gRPC\)/);
      const binary = await post(server, 'expand16', body(true));
      assert.equal(binary.status, 200, binary.text);
      assert.ok(binary.bytes > 52_000_000, `${binary.bytes} bytes`);
    });
  });
});
