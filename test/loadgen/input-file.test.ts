/** `inferd bench --input`: OIP bodies and perf_analyzer's real-input-data files become the right requests. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadRequests } from '../../src/loadgen/input-file.js';
import { outputMismatch } from '../../src/loadgen/output-check.js';
import type { Tensor } from '../../src/core/tensor.js';
import type { ModelMetadata } from '../../src/core/model.js';

const meta: ModelMetadata = {
  name: 'm',
  versions: ['1'],
  platform: 'onnxruntime_onnx',
  inputs: [
    { name: 'x', datatype: 'FP32', shape: [-1, 4] },
    { name: 'text', datatype: 'BYTES', shape: [-1] },
  ],
  outputs: [],
};

describe('bench --input files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'inferd-input-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  let n = 0;
  const loadAll = (body: unknown, m: ModelMetadata = meta) => {
    const path = join(dir, `in-${n++}.json`);
    writeFileSync(path, typeof body === 'string' ? body : JSON.stringify(body));
    return loadRequests({ path, model: 'm', metadata: async () => m });
  };
  const load = async (body: unknown, m: ModelMetadata = meta) => (await loadAll(body, m)).requests;

  it('reads an OIP body, or an array of them, with the server decoder', async () => {
    const one = { inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] }] };
    const [r] = await load(one);
    assert.deepEqual(Array.from(r!.inputs[0]!.data as Float32Array), [1, 2, 3, 4]);
    assert.equal((await load([one, one, one])).length, 3);
    await assert.rejects(load([one, { inputs: 'x' }]), /request 1: .*inputs/);
  });

  it("reads perf_analyzer's format: flat lists as batch-1 requests, one per entry, strings for BYTES", async () => {
    const requests = await load({
      data: [
        { x: [1, 2, 3, 4], text: ['Subject: hi\n\nwin money'] },
        { x: [[5, 6, 7, 8]], text: ['two', 'rows?'] },
      ],
    });
    assert.equal(requests.length, 2);
    const [a, b] = requests;
    assert.deepEqual(a!.inputs[0]!.shape, [1, 4]);
    assert.deepEqual(Array.from(b!.inputs[0]!.data as Float32Array), [5, 6, 7, 8]);
    assert.deepEqual(a!.inputs[1]!.shape, [1]);
    assert.equal(
      new TextDecoder().decode((a!.inputs[1]!.data as Uint8Array[])[0]),
      'Subject: hi\n\nwin money',
    );
    assert.deepEqual(b!.inputs[1]!.shape, [2], 'the one variable dim is read off the element count');
    assert.equal(a!.modelName, 'm');
  });

  it('reads {"content", "shape"} (shape without the batch dim) and b64 in the raw encoding', async () => {
    const floats = Buffer.from(new Float32Array([1.5, -2, 3, 4]).buffer).toString('base64');
    const strings = Buffer.concat(
      ['ab', '', 'é'].map((s) => {
        const bytes = Buffer.from(s);
        const len = Buffer.alloc(4);
        len.writeUInt32LE(bytes.length);
        return Buffer.concat([len, bytes]);
      }),
    ).toString('base64');
    const [r] = await load({
      data: [{ x: { content: { b64: floats }, shape: [4] }, text: { b64: strings } }],
    });
    assert.deepEqual(r!.inputs[0]!.shape, [1, 4]);
    assert.deepEqual(Array.from(r!.inputs[0]!.data as Float32Array), [1.5, -2, 3, 4]);
    assert.deepEqual(r!.inputs[1]!.shape, [3]);
    assert.deepEqual(
      (r!.inputs[1]!.data as Uint8Array[]).map((u) => new TextDecoder().decode(u)),
      ['ab', '', 'é'],
    );
    const image: ModelMetadata = {
      ...meta,
      inputs: [{ name: 'img', datatype: 'UINT8', shape: [-1, -1, -1, 3] }],
    };
    const [v] = await load(
      { data: [{ img: { content: Array(2 * 5 * 3).fill(7), shape: [2, 5, 3] } }] },
      image,
    );
    assert.deepEqual(v!.inputs[0]!.shape, [1, 2, 5, 3]);
  });

  const bad: Array<[string, unknown, RegExp, ModelMetadata?]> = [
    [
      'an unknown input',
      { data: [{ x: [1, 2, 3, 4], text: ['a'], y: [1] }] },
      /data\[0\]: the model has no input 'y'/,
    ],
    ['a missing input', { data: [{ x: [1, 2, 3, 4] }] }, /input 'text' is missing/],
    [
      'values that do not fill the shape',
      { data: [{ x: [1, 2, 3], text: ['a'] }] },
      /3 elements do not fill.*\[-1, 4\]/,
    ],
    ['a value of the wrong type', { data: [{ x: [1, 'two', 3, 4], text: ['a'] }] }, /'x' element 1/],
    [
      'a shape that does not fit',
      { data: [{ x: { content: [1, 2, 3, 4], shape: [2, 2] }, text: ['a'] }] },
      /does not fit/,
    ],
    [
      'b64 that is not whole elements',
      { data: [{ x: { b64: 'AAAAAAA=' }, text: ['a'] }] },
      /5 bytes is not a whole number of FP32/,
    ],
    [
      'BYTES b64 cut inside an element',
      { data: [{ x: [1, 2, 3, 4], text: { b64: 'BQAAAGFi' } }] },
      /runs past the end/,
    ],
    [
      'validation data of another length',
      { data: [{ x: [1, 2, 3, 4], text: ['a'] }], validation_data: [] },
      /one entry per 'data' entry \(1\)/,
    ],
    [
      'validation data naming an unknown output',
      { data: [{ x: [1, 2, 3, 4], text: ['a'] }], validation_data: [{ nope: [1] }] },
      /validation_data\[0\]: the model has no output 'nope'/,
    ],
    ['sequence streams', { data: [[{ x: [1, 2, 3, 4], text: ['a'] }]] }, /sequence/],
    ['an empty data array', { data: [] }, /non-empty array/],
    [
      'several variable dims without a shape',
      { data: [{ img: [1, 2, 3] }] },
      /several variable dims/,
      { ...meta, inputs: [{ name: 'img', datatype: 'UINT8', shape: [-1, -1, -1] }] },
    ],
  ];
  for (const [what, body, message, m] of bad) {
    it(`refuses ${what}, naming the file and the entry`, async () => {
      await assert.rejects(load(body, m), (err: Error) => {
        assert.match(err.message, /^--input .*in-\d+\.json: /);
        assert.match(err.message, message);
        return true;
      });
    });
  }

  it('reads validation_data as the outputs expected, entry for entry, and checks answers exactly', async () => {
    const withOutputs: ModelMetadata = {
      ...meta,
      outputs: [
        { name: 'p', datatype: 'FP32', shape: [-1] },
        { name: 'label', datatype: 'BYTES', shape: [-1] },
      ],
    };
    const { requests, expected } = await loadAll(
      {
        data: [{ x: [1, 2, 3, 4], text: ['a'] }],
        validation_data: [{ p: [0.1], label: ['spam'] }],
      },
      withOutputs,
    );
    assert.equal(requests.length, 1);
    const want = expected![0]!;
    assert.deepEqual(
      want.map((t) => [t.name, t.shape]),
      [
        ['p', [1]],
        ['label', [1]],
      ],
    );
    const answer = (p: number, label: string, shape = [1]): Tensor[] => [
      { name: 'p', datatype: 'FP32', shape, data: new Float32Array([p]) },
      { name: 'label', datatype: 'BYTES', shape, data: [new TextEncoder().encode(label)] },
    ];
    assert.equal(outputMismatch(want, answer(0.1, 'spam')), undefined, '0.1 as float32 on both sides');
    assert.match(outputMismatch(want, answer(0.1000001, 'spam'))!, /'p' differs/);
    assert.match(outputMismatch(want, answer(0.1, 'ham'))!, /'label' differs/);
    assert.match(outputMismatch(want, answer(0.1, 'spam', [1, 1]))!, /shape \[1, 1\], expected \[1\]/);
    assert.match(outputMismatch(want, answer(0.1, 'spam').slice(1))!, /'p' is missing/);
  });

  it('refuses a file that is not JSON', async () => {
    await assert.rejects(load('{"data": ['), /--input .*: .*JSON/);
  });
});
