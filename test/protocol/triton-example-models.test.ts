/**
 * The ONNX equivalents of Triton's example models (test/fixtures/triton-examples.ts) serve what the
 * examples check: names, datatypes, batching and results. `npm run triton:examples` runs Triton's
 * own clients against them; this test needs no Python.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { BytesData } from '../../src/core/tensor.js';
import { createClient } from '../../src/oip-client/index.js';
import type { RunningServer } from '../../src/server.js';
import { TRITON_EXAMPLE_MODELS, writeTritonExamplesRepository } from '../fixtures/triton-examples.js';
import { adminHeaders, startTestServer } from '../helpers/server.js';

interface Output {
  name: string;
  datatype: string;
  shape: number[];
  data: Array<number | string>;
}

describe('Triton example models', () => {
  let server: RunningServer;
  let repo: string;
  before(async () => {
    repo = mkdtempSync(join(tmpdir(), 'inferd-triton-examples-'));
    writeTritonExamplesRepository(repo);
    server = await startTestServer(repo);
  });
  after(async () => {
    await server?.close();
    rmSync(repo, { recursive: true, force: true });
  });

  const infer = async (model: string, body: object): Promise<Output[]> => {
    const res = await fetch(`${server.httpUrl}/v2/models/${model}/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    assert.equal(res.status, 200, await res.clone().text());
    const outs = ((await res.json()) as { outputs: Output[] }).outputs;
    return outs.sort((a, b) => a.name.localeCompare(b.name));
  };
  const in0 = Array.from({ length: 16 }, (_, i) => i);
  const ones = Array.from({ length: 16 }, () => 1);

  it('every model loads; the HTTP and gRPC model-control examples count 7 and 8', async () => {
    const res = await fetch(`${server.httpUrl}/v2/repository/index`, {
      method: 'POST',
      headers: adminHeaders(),
    });
    const index = (await res.json()) as Array<{ name: string; state: string }>;
    assert.deepEqual(index.map((e) => e.name).sort(), [...TRITON_EXAMPLE_MODELS].sort());
    assert.ok(
      index.every((e) => e.state === 'READY'),
      JSON.stringify(index),
    );
  });

  it('the first 7 and 8 models (what the model-control examples count) stay the simple family', () => {
    const seven = mkdtempSync(join(tmpdir(), 'inferd-triton-seven-'));
    try {
      writeTritonExamplesRepository(seven, 8);
      assert.deepEqual(readdirSync(seven).sort(), [...TRITON_EXAMPLE_MODELS.slice(0, 8)].sort());
      assert.ok(!TRITON_EXAMPLE_MODELS.slice(0, 8).some((m) => m.includes('inception')));
    } finally {
      rmSync(seven, { recursive: true, force: true });
    }
  });

  it('simple_identity returns any bytes unchanged: NUL bytes and invalid UTF-8 included', async () => {
    const client = createClient('rest-binary', server.httpUrl);
    const items = [Buffer.from('he\x00llo'), Buffer.from([0, 1, 2, 3]), Buffer.from([0xff, 0xfe, 0x80])];
    const res = await client.infer({
      modelName: 'simple_identity',
      inputs: [{ name: 'INPUT0', datatype: 'BYTES', shape: [1, 3], data: BytesData.fromArrays(items) }],
    });
    const out = res.outputs[0]!.data as BytesData;
    assert.deepEqual(
      Array.from({ length: out.length }, (_, i) => Buffer.from(out.at(i)).toString('hex')),
      items.map((b) => b.toString('hex')),
    );
  });

  it('preprocess_inception_ensemble: a batch of encoded images → top-k classes with labels', async () => {
    const jpeg = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#c04020' } })
      .jpeg()
      .toBuffer();
    const png = await sharp({ create: { width: 20, height: 90, channels: 3, background: '#2040c0' } })
      .png()
      .toBuffer();
    const client = createClient('rest-binary', server.httpUrl);
    const res = await client.infer({
      modelName: 'preprocess_inception_ensemble',
      inputs: [{ name: 'INPUT', datatype: 'BYTES', shape: [2, 1], data: BytesData.fromArrays([jpeg, png]) }],
      outputs: [{ name: 'OUTPUT', parameters: { classification: 2 } }],
    });
    const out = res.outputs[0]!;
    assert.deepEqual([out.datatype, out.shape], ['BYTES', [2, 2]]);
    const rows = (out.data as BytesData).toStrings();
    for (const r of rows) assert.match(r, /^0\.\d+:\d+:INCEPTION_CLASS_\d+$/);
    // Different colours give different top classes: the pixels did reach the classifier.
    assert.notEqual(rows[0], rows[2]);
  });

  it('preprocess_inception_ensemble refuses bytes that are not an image, naming the problem', async () => {
    const client = createClient('rest-binary', server.httpUrl);
    await assert.rejects(
      client.infer({
        modelName: 'preprocess_inception_ensemble',
        inputs: [
          { name: 'INPUT', datatype: 'BYTES', shape: [1, 1], data: BytesData.fromStrings(['not an image']) },
        ],
      }),
      (e: Error & { status?: number }) => e.status === 400 && /image format/.test(e.message),
    );
  });

  for (const [model, datatype] of [
    ['simple', 'INT32'],
    ['simple_int8', 'INT8'],
  ] as const) {
    it(`${model}: OUTPUT0 = INPUT0 + INPUT1, OUTPUT1 = INPUT0 - INPUT1 over ${datatype} [1,16]`, async () => {
      const [o0, o1] = await infer(model, {
        inputs: [
          { name: 'INPUT0', datatype, shape: [1, 16], data: in0 },
          { name: 'INPUT1', datatype, shape: [1, 16], data: ones },
        ],
      });
      assert.deepEqual([o0!.datatype, o0!.shape, o0!.data], [datatype, [1, 16], in0.map((x) => x + 1)]);
      assert.deepEqual(
        o1!.data,
        in0.map((x) => x - 1),
      );
    });
  }

  it('simple_string: decimal text in, decimal text out', async () => {
    const [o0, o1] = await infer('simple_string', {
      inputs: [
        { name: 'INPUT0', datatype: 'BYTES', shape: [1, 16], data: in0.map(String) },
        { name: 'INPUT1', datatype: 'BYTES', shape: [1, 16], data: ones.map(String) },
      ],
    });
    assert.deepEqual(
      o0!.data,
      in0.map((x) => String(x + 1)),
    );
    assert.deepEqual(
      o1!.data,
      in0.map((x) => String(x - 1)),
    );
  });

  it('simple_identity and custom_identity_int32 return their input', async () => {
    const [s] = await infer('simple_identity', {
      inputs: [{ name: 'INPUT0', datatype: 'BYTES', shape: [1, 2], data: ['hello', 'wörld'] }],
    });
    assert.deepEqual(s!.data, ['hello', 'wörld']);
    const [i] = await infer('custom_identity_int32', {
      inputs: [{ name: 'INPUT0', datatype: 'INT32', shape: [1, 16], data: in0 }],
    });
    assert.deepEqual(i!.data, in0);
  });

  it('densenet_onnx: data_0 FP32 [3,224,224] → fc6_1 FP32 [1000]; metadata without a batch dim', async () => {
    const meta = (await (await fetch(`${server.httpUrl}/v2/models/densenet_onnx`)).json()) as {
      inputs: Array<{ shape: number[] }>;
    };
    assert.deepEqual(meta.inputs[0]!.shape, [3, 224, 224]);
    const res = await fetch(`${server.httpUrl}/v2/models/densenet_onnx/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        inputs: [
          {
            name: 'data_0',
            datatype: 'FP32',
            shape: [3, 224, 224],
            data: new Array(3 * 224 * 224).fill(0.5),
          },
        ],
      }),
    });
    assert.equal(res.status, 200);
    const [out] = ((await res.json()) as { outputs: Output[] }).outputs;
    assert.deepEqual([out!.name, out!.datatype, out!.shape], ['fc6_1', 'FP32', [1000]]);
  });
});
