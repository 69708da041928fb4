/** Model contract: the ONNX file's I/O names, types and shapes match what config.json promises the server. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import ort from 'onnxruntime-node';
import { decodeModel, OnnxType } from '../../src/training/graph-builder.js';
import { readConfig, readMetrics } from '../../src/training/spam/artifacts.js';
import { MODELS, SPAM_MODEL } from './helpers.js';

const config = readConfig(MODELS);
const model = decodeModel(readFileSync(SPAM_MODEL));
const graph = model.graph as NonNullable<typeof model.graph>;
const nodes = graph.node ?? [];

function io(list: typeof graph.input): { name: string; type: number; dims: (string | number)[] }[] {
  return (list ?? []).map((v) => ({
    name: v.name ?? '',
    type: v.type?.tensorType?.elemType ?? -1,
    dims: (v.type?.tensorType?.shape?.dim ?? []).map((d) => (d.dimParam ? d.dimParam : Number(d.dimValue))),
  }));
}

test('config.json follows the serving contract', () => {
  assert.equal(config.name, 'spam');
  assert.equal(config.platform, 'onnxruntime_onnx');
  // Batching is either explicit or chosen at load (the batch dimension is symbolic: auto-complete).
  assert.ok(config.max_batch_size === undefined || config.max_batch_size > 0);
  assert.deepEqual(config.labels, ['ham', 'spam']);
  const prod = config.aliases?.['production'];
  assert.ok(prod !== undefined && /^\d+$/.test(prod), 'production alias names a version folder');
  readMetrics(MODELS, prod);
  assert.ok(config.evaluation?.floors?.f1 !== undefined && config.evaluation.max_regression !== undefined);
});

test('ONNX inputs/outputs: text STRING [N] -> probability FLOAT [N], label STRING [N]; batch dim symbolic', () => {
  assert.deepEqual(io(graph.input), [{ name: 'text', type: OnnxType.STRING, dims: ['N'] }]);
  assert.deepEqual(io(graph.output), [
    { name: 'probability', type: OnnxType.FLOAT, dims: ['N'] },
    { name: 'label', type: OnnxType.STRING, dims: ['N'] },
  ]);
  // Triton-style optional declarations in config.json, if present, must agree.
  const declared = (config['input'] as { name: string }[] | undefined)?.map((i) => i.name);
  if (declared) assert.deepEqual(declared, ['text']);
});

test('the model loads in onnxruntime-node and reports the same names; labels come from config.labels', async () => {
  const s = await ort.InferenceSession.create(SPAM_MODEL);
  assert.deepEqual([...s.inputNames], ['text']);
  assert.deepEqual([...s.outputNames], ['probability', 'label']);
  const r = await s.run({ text: new ort.Tensor('string', ['hello', 'FREE MONEY!!!'], [2]) });
  assert.equal((r['probability'] as ort.Tensor).type, 'float32');
  assert.deepEqual((r['probability'] as ort.Tensor).dims, [2]);
  assert.deepEqual((r['label'] as ort.Tensor).dims, [2]);
  for (const l of (r['label'] as ort.Tensor).data as string[]) assert.ok(config.labels?.includes(l));
  await s.release();
});

test('only standard ONNX domains are used (ai.onnx and ai.onnx.ml)', () => {
  const domains = new Set(nodes.map((n) => n.domain || 'ai.onnx'));
  assert.deepEqual([...domains].sort(), ['ai.onnx', 'ai.onnx.ml']);
  const labelNode = nodes.find((n) => n.opType === 'LabelEncoder');
  assert.ok(labelNode, 'label comes from a LabelEncoder');
});
