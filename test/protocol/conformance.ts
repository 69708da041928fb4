/**
 * The Open Inference Protocol conformance suite: the same cases, expected tensors and errors for every
 * transport (REST JSON, REST binary, gRPC), each expressing errors its own way. A transport that
 * cannot run a case lists it in `skips` with the reason.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { rmSync } from 'node:fs';
import { ClientError, type InferClient } from '../../src/oip-client/types.js';
import { BytesData, DATATYPES, type Datatype, type Tensor } from '../../src/core/tensor.js';
import { ERROR_CATALOGUE, type ErrorCode } from '../../src/errors.js';
import type { RunningServer } from '../../src/server.js';
import { makeFixtureRepository } from '../fixtures/repository.js';
import { startTestServer } from '../helpers/server.js';
import { bytes, f32, tensorFor } from './tensors.js';

/** The body limit the suite's server runs with, so that "oversized" is cheap to reach. */
const SUITE_MAX_BODY_BYTES = 1024 * 1024;

async function expectError(
  p: Promise<unknown>,
  code: ErrorCode,
  client: InferClient,
  mentions?: string,
): Promise<ClientError> {
  const err = await p.then(
    () => assert.fail(`expected error ${code}, the call succeeded`),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ClientError, `expected a ClientError, got ${String(err)}`);
  assert.equal(err.code, code, `code: ${err.message}`);
  const spec = ERROR_CATALOGUE[code];
  assert.equal(err.status, client.transport === 'grpc' ? spec.grpc : spec.http, `status for ${code}`);
  assert.ok(err.message.length > 10, 'the message says what is wrong');
  if (mentions) assert.match(err.message, new RegExp(mentions), 'the message names the culprit');
  return err;
}

/** Every datatype but BF16, which ONNX Runtime's Node binding cannot hold. */
const ALL_TYPES: Datatype[] = DATATYPES.filter((d) => d !== 'BF16');

const addInputs = (a: number[], b: number[], rows = 1): Tensor[] => [
  f32('a', [rows, 4], a),
  f32('b', [rows, 4], b),
];

export function runConformance(
  label: string,
  makeClient: (server: RunningServer) => InferClient,
  skips: Record<string, string> = {},
): void {
  describe(`protocol conformance: ${label}`, () => {
    let server: RunningServer;
    let client: InferClient;
    let repo: string;

    before(async () => {
      repo = makeFixtureRepository({ broken: true });
      server = await startTestServer(repo, { maxBodyBytes: SUITE_MAX_BODY_BYTES });
      client = makeClient(server);
    });
    after(async () => {
      await client?.close();
      await server?.close();
      rmSync(repo, { recursive: true, force: true });
    });

    const test = (name: string, fn: () => Promise<void>): void => {
      if (skips[name]) it(name, { skip: skips[name] }, fn);
      else it(name, fn);
    };

    test('server is live and ready', async () => {
      assert.equal(await client.serverLive(), true);
      assert.equal(await client.serverReady(), true);
    });

    test('server metadata names the server and its extensions', async () => {
      const md = await client.serverMetadata();
      assert.equal(md.name, 'inferd');
      assert.match(md.version, /^\d+\.\d+\.\d+/);
      assert.ok(md.extensions.includes('model_repository'));
      assert.ok(md.extensions.includes('statistics'));
    });

    test('model metadata reads inputs and outputs from the model', async () => {
      const md = await client.modelMetadata('add');
      assert.equal(md.name, 'add');
      assert.equal(md.platform, 'onnxruntime_onnx');
      assert.deepEqual(md.versions, ['1']);
      assert.deepEqual(md.inputs, [
        { name: 'a', datatype: 'FP32', shape: [-1, 4] },
        { name: 'b', datatype: 'FP32', shape: [-1, 4] },
      ]);
      assert.deepEqual(
        md.outputs.map((o) => o.name),
        ['sum', 'diff'],
      );
      const v1 = await client.modelMetadata('add', '1');
      assert.deepEqual(v1.inputs, md.inputs);
      const noConfig = await client.modelMetadata('add_noconfig');
      assert.deepEqual(noConfig.inputs[0], { name: 'a', datatype: 'FP32', shape: [-1, 4] });
    });

    test('unknown model and version are not found', async () => {
      // Triton's wording, which Triton's example clients test for (simple_http_infer_client.py).
      const unknown = "^Request for unknown model: 'nope' is not found";
      await expectError(client.modelMetadata('nope'), 'model_not_found', client, unknown);
      await expectError(
        client.modelMetadata('add', '9'),
        'version_not_found',
        client,
        "^Request for unknown model: 'add' version 9 is not found",
      );
      await expectError(
        client.modelMetadata('add', 'x1'),
        'version_not_found',
        client,
        "^failed to get model version from specified version string 'x1' .*version should be an integral value > 0",
      );
      await expectError(client.modelReady('nope'), 'model_not_found', client, unknown);
      await expectError(
        client.infer({ modelName: 'nope', inputs: addInputs([1, 2, 3, 4], [1, 1, 1, 1]) }),
        'model_not_found',
        client,
        unknown,
      );
      await expectError(
        client.infer({ modelName: 'add', modelVersion: '7', inputs: addInputs([1, 2, 3, 4], [1, 1, 1, 1]) }),
        'version_not_found',
        client,
        "^Request for unknown model: 'add' version 7 is not found",
      );
    });

    test('model readiness', async () => {
      assert.equal(await client.modelReady('add'), true);
      assert.equal(await client.modelReady('add', '1'), true);
      assert.equal(await client.modelReady('corrupt'), false);
    });

    test('infer: outputs, id echo, version', async () => {
      const res = await client.infer({
        id: 'req-42',
        modelName: 'add',
        inputs: addInputs([1, 2, 3, 4], [10, 20, 30, 40]),
      });
      assert.equal(res.id, 'req-42');
      assert.equal(res.modelName, 'add');
      assert.equal(res.modelVersion, '1');
      const sum = res.outputs.find((o) => o.name === 'sum')!;
      const diff = res.outputs.find((o) => o.name === 'diff')!;
      assert.deepEqual(sum.shape, [1, 4]);
      assert.equal(sum.datatype, 'FP32');
      assert.deepEqual(Array.from(sum.data as Float32Array), [11, 22, 33, 44]);
      assert.deepEqual(Array.from(diff.data as Float32Array), [-9, -18, -27, -36]);
    });

    test('infer: explicit version and alias', async () => {
      for (const v of ['1', 'production']) {
        const res = await client.infer({
          modelName: 'add',
          modelVersion: v,
          inputs: addInputs([1, 1, 1, 1], [1, 1, 1, 1]),
        });
        assert.equal(res.modelVersion, '1');
      }
    });

    test('infer: requested outputs only', async () => {
      const res = await client.infer({
        modelName: 'add',
        inputs: addInputs([5, 5, 5, 5], [1, 2, 3, 4]),
        outputs: [{ name: 'diff' }],
      });
      assert.deepEqual(
        res.outputs.map((o) => o.name),
        ['diff'],
      );
      assert.deepEqual(Array.from(res.outputs[0]!.data as Float32Array), [4, 3, 2, 1]);
    });

    test('infer: a batch of rows', async () => {
      const res = await client.infer({
        modelName: 'add',
        inputs: addInputs([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], Array(12).fill(1), 3),
        outputs: [{ name: 'sum' }],
      });
      assert.deepEqual(res.outputs[0]!.shape, [3, 4]);
      assert.deepEqual(
        Array.from(res.outputs[0]!.data as Float32Array),
        [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13],
      );
    });

    test('infer: every datatype round-trips exactly', async () => {
      const inputs = ALL_TYPES.map((dt) => tensorFor(dt, `in_${dt}`, [2, 3]));
      const res = await client.infer({ modelName: 'identity', inputs });
      for (const dt of ALL_TYPES) {
        const out = res.outputs.find((o) => o.name === `out_${dt}`);
        assert.ok(out, `output out_${dt}`);
        const input = inputs.find((i) => i.name === `in_${dt}`)!;
        assert.equal(out.datatype, dt);
        assert.deepEqual(out.shape, [2, 3]);
        assert.deepEqual(
          Array.from(out.data as ArrayLike<unknown>),
          Array.from(input.data as ArrayLike<unknown>),
          dt,
        );
      }
    });

    test('infer: strings (BYTES) through a string model', async () => {
      const res = await client.infer({
        modelName: 'upper',
        inputs: [bytes('text', ['hello', 'Grüne Äpfel', ''])],
      });
      const out = res.outputs[0]!;
      assert.equal(out.datatype, 'BYTES');
      assert.deepEqual(out.shape, [3]);
      assert.deepEqual((out.data as BytesData).toStrings(), ['HELLO', 'GRÜNE ÄPFEL', '']);
    });

    test('bad input: unknown, missing, wrong datatype, wrong shape, unknown output', async () => {
      await expectError(
        client.infer({
          modelName: 'add',
          inputs: [...addInputs([1, 2, 3, 4], [1, 1, 1, 1]), f32('c', [1, 4], [1, 1, 1, 1])],
        }),
        'unknown_input',
        client,
        "'c'",
      );
      await expectError(
        client.infer({ modelName: 'add', inputs: [f32('a', [1, 4], [1, 2, 3, 4])] }),
        'missing_input',
        client,
        "'b'",
      );
      await expectError(
        client.infer({
          modelName: 'add',
          inputs: [f32('a', [1, 4], [1, 2, 3, 4]), tensorFor('INT32', 'b', [1, 4])],
        }),
        'datatype_mismatch',
        client,
        "'b'",
      );
      await expectError(
        client.infer({
          modelName: 'add',
          inputs: [f32('a', [1, 3], [1, 2, 3]), f32('b', [1, 3], [1, 2, 3])],
        }),
        'shape_mismatch',
        client,
        "'a'",
      );
      await expectError(
        client.infer({
          modelName: 'add',
          inputs: addInputs([1, 2, 3, 4], [1, 1, 1, 1]),
          outputs: [{ name: 'product' }],
        }),
        'unknown_output',
        client,
        'product',
      );
      await expectError(
        client.infer({ modelName: 'add', inputs: addInputs(Array(36).fill(1), Array(36).fill(1), 9) }),
        'invalid_request',
        client,
        'max_batch_size',
      );
    });

    test('unavailable model answers with its reason; the rest keep serving', async () => {
      await expectError(
        client.infer({ modelName: 'corrupt', inputs: [] }),
        'model_unavailable',
        client,
        'corrupt|ONNX',
      );
      const res = await client.infer({ modelName: 'add', inputs: addInputs([1, 2, 3, 4], [1, 1, 1, 1]) });
      assert.equal(res.outputs.length, 2);
    });

    test('oversized message is refused and the server keeps serving', async () => {
      const n = Math.ceil(SUITE_MAX_BODY_BYTES / 4) + 1024;
      await expectError(
        client.infer({
          modelName: 'identity',
          inputs: [f32('in_FP32', [1, n], new Array<number>(n).fill(0.5))],
        }),
        'payload_too_large',
        client,
      );
      assert.equal(await client.serverLive(), true);
      const res = await client.infer({ modelName: 'add', inputs: addInputs([1, 2, 3, 4], [1, 1, 1, 1]) });
      assert.equal(res.modelName, 'add');
    });
  });
}
