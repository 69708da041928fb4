/**
 * Triton's classification extension (issue 18): `classification: k` on a requested output (what
 * tritonclient's `InferRequestedOutput(name, class_count=k)` sends) answers the top k of each batch
 * row as BYTES "value:index[:label]", labels from the output's label_filename; over REST JSON, REST
 * binary and gRPC, through the real server.
 */
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BytesData, type Tensor } from '../../src/core/tensor.js';
import { createClient, type InferClient, type Transport } from '../../src/oip-client/index.js';
import type { RunningServer } from '../../src/server.js';
import { buildModel } from '../../src/training/graph-builder.js';
import { addModel, makeFixtureRepository, writeModel } from '../fixtures/repository.js';
import { adminHeaders, startTestServer } from '../helpers/server.js';

const f32 = (name: string, shape: number[], values: number[]): Tensor => ({
  name,
  datatype: 'FP32',
  shape,
  data: Float32Array.from(values),
});

const strings = (t: Tensor): readonly string[] => {
  assert.equal(t.datatype, 'BYTES');
  return (t.data as BytesData).toStrings();
};

describe('classification extension', () => {
  let server: RunningServer;
  let repo: string;
  const clients = new Map<Transport, InferClient>();

  before(async () => {
    repo = makeFixtureRepository();
    // `add` with labels on `sum` (label_filename) and the model's own list for `diff`.
    writeModel(repo, 'classes', 1, addModel(), {
      max_batch_size: 8,
      output: [
        { name: 'sum', data_type: 'TYPE_FP32', dims: [4], label_filename: 'sum_labels.txt' },
        { name: 'diff', data_type: 'TYPE_FP32', dims: [4] },
      ],
      labels: ['w', 'x', 'y', 'z'],
    });
    writeFileSync(join(repo, 'classes', 'sum_labels.txt'), 'apple\npickle\nbanana\ncherry\n');
    // max_batch_size 0 (said explicitly: auto-complete would batch a dynamic first dimension): the
    // whole tensor is one row.
    for (const [name, type] of [
      ['ints', 'INT32'],
      ['texts', 'STRING'],
    ] as const) {
      const model = buildModel({
        inputs: [{ name: 'x', type, shape: ['N'] }],
        outputs: [{ name: 'y', type, shape: ['N'] }],
        nodes: [{ op: 'Identity', inputs: ['x'], outputs: ['y'] }],
      });
      writeModel(repo, name, 1, model, { max_batch_size: 0 });
    }
    writeModel(repo, 'no_labels_file', 1, addModel(), {
      max_batch_size: 8,
      output: [{ name: 'sum', data_type: 'TYPE_FP32', dims: [4], label_filename: 'absent.txt' }],
    });
    server = await startTestServer(repo);
    for (const t of ['rest-json', 'rest-binary', 'grpc'] as const) {
      clients.set(t, createClient(t, t === 'grpc' ? server.grpcUrl : server.httpUrl));
    }
  });
  after(async () => {
    for (const c of clients.values()) c.close?.();
    await server?.close();
    rmSync(repo, { recursive: true, force: true });
  });

  for (const transport of ['rest-json', 'rest-binary', 'grpc'] as const) {
    it(`${transport}: top-k per batch row as "value:index:label", shape [batch, k]`, async () => {
      const res = await clients.get(transport)!.infer({
        modelName: 'classes',
        inputs: [f32('a', [2, 4], [1, 5, 10, 4, 0, 0, 0, 7]), f32('b', [2, 4], [0, 0, 0, 0, 1, 2, 3, 0])],
        outputs: [
          { name: 'sum', parameters: { classification: 2 } },
          { name: 'diff', parameters: { classification: 1 } },
        ],
      });
      const sum = res.outputs.find((o) => o.name === 'sum')!;
      assert.deepEqual(sum.shape, [2, 2]);
      assert.deepEqual(strings(sum), [
        '10.000000:2:banana',
        '5.000000:1:pickle',
        '7.000000:3:cherry',
        '3.000000:2:banana',
      ]);
      const diff = res.outputs.find((o) => o.name === 'diff')!;
      assert.deepEqual(diff.shape, [2, 1]);
      assert.deepEqual(strings(diff), ['10.000000:2:y', '7.000000:3:z']);
    });
  }

  it('a model without labels and max_batch_size 0: "value:index", shape [min(k, elements)]', async () => {
    const res = await clients.get('rest-json')!.infer({
      modelName: 'ints',
      inputs: [{ name: 'x', datatype: 'INT32', shape: [3], data: Int32Array.from([7, -2, 9]) }],
      outputs: [{ name: 'y', parameters: { classification: 5 } }],
    });
    assert.deepEqual(res.outputs[0]!.shape, [3]);
    assert.deepEqual(strings(res.outputs[0]!), ['9:2', '7:0', '-2:1']);
  });

  it('a bad class count and an unclassifiable datatype are 400 with a message', async () => {
    const client = clients.get('rest-json')!;
    await assert.rejects(
      client.infer({
        modelName: 'classes',
        inputs: [f32('a', [1, 4], [1, 2, 3, 4]), f32('b', [1, 4], [1, 2, 3, 4])],
        outputs: [{ name: 'sum', parameters: { classification: -1 } }],
      }),
      (e: Error & { status?: number; code?: string }) => {
        assert.equal(e.status, 400, e.message);
        assert.equal(e.code, 'invalid_request');
        assert.match(e.message, /parameter 'classification' must be a non-negative integer/);
        return true;
      },
    );
    await assert.rejects(
      client.infer({
        modelName: 'texts',
        inputs: [{ name: 'x', datatype: 'BYTES', shape: [1], data: BytesData.fromStrings(['x']) }],
        outputs: [{ name: 'y', parameters: { classification: 1 } }],
      }),
      (e: Error & { status?: number; code?: string }) =>
        e.status === 400 &&
        /class result not available for output due to unsupported type 'BYTES'/.test(e.message),
    );
  });

  it('a label_filename that is not there fails the load naming the output and file; extension advertised', async () => {
    const res = await fetch(`${server.httpUrl}/v2/repository/index`, {
      method: 'POST',
      headers: adminHeaders(),
    });
    const index = (await res.json()) as Array<{ name: string; state: string; reason: string }>;
    const entry = index.find((m) => m.name === 'no_labels_file')!;
    assert.equal(entry.state, 'UNAVAILABLE');
    assert.match(entry.reason, /output\.0\.label_filename: label file 'absent\.txt' of output 'sum'/);
    const meta = await clients.get('rest-json')!.serverMetadata();
    assert.ok(meta.extensions.includes('classification'), meta.extensions.join(','));
  });
});
