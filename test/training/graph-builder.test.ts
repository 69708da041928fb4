/** The ONNX writer: what it writes is what ONNX Runtime reads back, including the edge values. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import ort from 'onnxruntime-node';
import { buildModel, decodeModel } from '../../src/training/graph-builder.js';

describe('ONNX builder', () => {
  it('keeps empty strings in STRING initializers and attributes', async () => {
    const values = ['', 'a', '', 'é ✓'];
    const bytes = buildModel({
      inputs: [{ name: 'x', type: 'STRING', shape: [4] }],
      outputs: [
        { name: 'y', type: 'STRING', shape: [4] },
        { name: 'z', type: 'STRING', shape: [1] },
      ],
      initializers: [{ name: 'c', type: 'STRING', dims: [4], values }],
      nodes: [
        { op: 'Identity', inputs: ['c'], outputs: ['y'] },
        { op: 'Constant', inputs: [], outputs: ['z'], attrs: { value_strings: [''] } },
      ],
    });
    const decoded = decodeModel(bytes);
    assert.equal(decoded.graph!.initializer![0]!.stringData!.length, 4);
    const session = await ort.InferenceSession.create(bytes);
    try {
      const out = await session.run({ x: new ort.Tensor('string', ['p', 'q', 'r', 's'], [4]) });
      assert.deepEqual(Array.from(out.y!.data as string[]), values);
      assert.deepEqual(Array.from(out.z!.data as string[]), ['']);
    } finally {
      await session.release();
    }
  });
});
