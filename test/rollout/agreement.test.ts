/** Shadow agreement: label agreement and score difference for classifiers, CER for text. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { BytesData } from '../../src/core/bytes-data.js';
import { cer, compareOutputs, editDistance } from '../../src/service/rollout/agreement.js';
import { copyInputs, runShadow } from '../../src/service/shadow.js';

it('label agreement per row and the mean score difference of the primary label', () => {
  const p = [
    {
      name: 'probs',
      datatype: 'FP32' as const,
      shape: [3, 2],
      data: new Float32Array([0.9, 0.1, 0.4, 0.6, 0.2, 0.8]),
    },
  ];
  const s = [
    {
      name: 'probs',
      datatype: 'FP32' as const,
      shape: [3, 2],
      data: new Float32Array([0.7, 0.3, 0.6, 0.4, 0.2, 0.8]),
    },
  ];
  const a = compareOutputs(p, s);
  assert.equal(a.rows, 3);
  assert.equal(a.agreed, 2);
  // |0.9-0.7| + |0.6-0.4| + |0.8-0.8| over 3 rows
  assert.ok(Math.abs(a.scoreDiff! - 0.4 / 3) < 1e-6);
  assert.equal(a.cer, undefined);
});

it('character error rate between OCR texts', () => {
  assert.equal(editDistance('kitten', 'sitting'), 3);
  assert.equal(cer('hello', 'hello'), 0);
  assert.equal(cer('hello', 'hallo'), 0.2);
  assert.equal(cer('', ''), 0);
  const p = [
    { name: 'text', datatype: 'BYTES' as const, shape: [2], data: BytesData.fromStrings(['abcd', 'xy']) },
  ];
  const s = [
    { name: 'text', datatype: 'BYTES' as const, shape: [2], data: BytesData.fromStrings(['abed', 'xy']) },
  ];
  assert.equal(compareOutputs(p, s).cer, 0.125);
});

it("the shadow's inputs are a copy: detaching the primary's buffers leaves them intact", () => {
  const data = new Float32Array([1, 2, 3, 4]);
  const req = { modelName: 'm', inputs: [{ name: 'x', datatype: 'FP32' as const, shape: [1, 4], data }] };
  const copy = copyInputs(req);
  structuredClone(data.buffer, { transfer: [data.buffer] });
  assert.equal(data.length, 0);
  assert.deepEqual([...(copy.inputs[0]!.data as Float32Array)], [1, 2, 3, 4]);
});

it('a mirror is shed when another request is in flight or the candidate is busy, and runs after this turn', async () => {
  const reports: string[] = [];
  const req = { modelName: 'm', inputs: [] };
  const candidate = (pending: number) =>
    ({ version: '2', scheduler: { full: false, pending } }) as unknown as Parameters<typeof runShadow>[2];
  runShadow(
    req,
    [],
    candidate(0),
    (r) => reports.push(r.outcome),
    () => true,
  );
  runShadow(
    req,
    [],
    candidate(1),
    (r) => reports.push(r.outcome),
    () => false,
  );
  // Nothing happens on the primary's own turn of the event loop.
  assert.deepEqual(reports, []);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(reports, ['shed', 'shed']);
});
