/**
 * The served graph's sparse word features (serving-head.ts) against the dense featuriser training
 * reads (featurizer-graph.ts): the same first-layer product and known-word count for every text,
 * including the tokeniser's edge cases (empty, double spaces, repeats, line breaks, the remainder
 * past MAX_WORDS, non-ASCII), and the vocabularies it cannot match exactly are refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import ort from 'onnxruntime-node';
import { buildModel, type InitTensor, type NodeSpec } from '../../src/training/graph-builder.js';
import { buildVocabulary, tokenize } from '../../src/training/spam/featurize.js';
import {
  DENSE_FEATURES,
  featurizerNodes,
  shapeFeatureNodes,
  tokenizerNodes,
  vocabularySize,
  type Vocabulary,
} from '../../src/training/spam/featurizer-graph.js';
import { sparseHeadNodes } from '../../src/training/spam/serving-head.js';
import { Prng } from '../../src/training/stats/prng.js';

const K = 3;

async function session(
  nodes: NodeSpec[],
  initializers: InitTensor[],
  outputs: string[],
): Promise<ort.InferenceSession> {
  const bytes = buildModel({
    opset: 20,
    extraOpsets: { 'ai.onnx.ml': 3 },
    inputs: [{ name: 'text', type: 'STRING', shape: ['N'] }],
    outputs: outputs.map((name) => ({ name, type: 'FLOAT', shape: ['N', name === 'f_known' ? 1 : K] })),
    nodes,
    initializers,
  });
  return ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
}

/** Dense: features · W by MatMul over the whole vocabulary, as training computes them. */
async function denseSession(vocab: Vocabulary, w: Float32Array): Promise<ort.InferenceSession> {
  const f = featurizerNodes(vocab, { known: true });
  const width = vocabularySize(vocab) + DENSE_FEATURES.length;
  return session(
    [...f.nodes, { op: 'MatMul', inputs: ['features', 't_w'], outputs: ['first'] }],
    [...f.initializers, { name: 't_w', type: 'FLOAT', dims: [width, K], values: w }],
    ['first', 'f_known'],
  );
}

async function sparseSession(vocab: Vocabulary, w: Float32Array): Promise<ort.InferenceSession> {
  const tok = tokenizerNodes();
  const shape = shapeFeatureNodes();
  const head = sparseHeadNodes(vocab, w, K, 'first');
  return session(
    [...tok.nodes, ...shape.nodes, ...head.nodes],
    [...tok.initializers, ...shape.initializers, ...head.initializers],
    ['first', 'f_known'],
  );
}

const CORPUS = [
  'Subject: free money\n\nclaim your free prize now free prize',
  'meeting at noon tomorrow, see the agenda attached',
  'FREE entry!!! win cash now at http://example.com/win',
  'lunch tomorrow? the agenda is long',
  'your account: verify your password at www.bank.example',
  'see you at the meeting tomorrow',
  'win win win free free cash',
  'the prize draw closes at noon',
];

const EDGE_CASES = [
  '',
  ' ',
  'free',
  'free  prize',
  'free prize free prize free prize',
  'free\nprize\r\nclaim\n\n\nyour prize',
  'win@cash free@prize.example',
  '  leading and trailing spaces  ',
  'FREE PRIZE Free Prize',
  'prêmio grátis 免费 奖品 free prize',
  'tab\tseparated free\tprize',
  // Past MAX_WORDS (3000): the remainder is one word with spaces inside, matching no pair.
  `${'free prize '.repeat(1600)}claim now`,
  ...CORPUS,
];

test('the sparse head gives the dense first layer and known-word count for every text', async () => {
  const vocab = buildVocabulary(await tokenize(CORPUS), { minDf: 1, maxUnigrams: 40, maxBigrams: 40 });
  assert.ok(vocab.bigrams.length > 5 && vocab.unigrams.length > 10);
  const rng = new Prng(7);
  const width = vocabularySize(vocab) + DENSE_FEATURES.length;
  const w = Float32Array.from({ length: width * K }, () => rng.normal());
  const dense = await denseSession(vocab, w);
  const sparse = await sparseSession(vocab, w);
  // One batch of all, and each alone: a row's result must not depend on its batch.
  const batches = [EDGE_CASES, ...EDGE_CASES.map((t) => [t])];
  for (const texts of batches) {
    const feeds = { text: new ort.Tensor('string', texts, [texts.length]) };
    const a = await dense.run(feeds);
    const b = await sparse.run(feeds);
    const da = a['first']!.data as Float32Array;
    const db = b['first']!.data as Float32Array;
    assert.deepEqual(b['first']!.dims, a['first']!.dims);
    for (let i = 0; i < da.length; i++) {
      const tol = 1e-5 * Math.max(1, Math.abs(da[i]!));
      assert.ok(Math.abs(da[i]! - db[i]!) <= tol, `row ${Math.floor(i / K)}: ${da[i]} vs ${db[i]}`);
    }
    assert.deepEqual(
      Array.from(b['f_known']!.data as Float32Array),
      Array.from(a['f_known']!.data as Float32Array),
    );
  }
  await dense.release();
  await sparse.release();
});

test('a vocabulary the sparse head cannot match exactly is refused', () => {
  const w = new Float32Array((3 + DENSE_FEATURES.length) * K);
  const base: Vocabulary = { unigrams: ['a', 'b'], bigrams: [['a', 'b']], idf: [1, 1, 1] };
  assert.doesNotThrow(() => sparseHeadNodes(base, w, K, 'out'));
  assert.throws(() => sparseHeadNodes({ ...base, unigrams: ['a', ''] }, w, K, 'out'), /empty string/);
  assert.throws(() => sparseHeadNodes({ ...base, bigrams: [['a b', 'c']] }, w, K, 'out'), /one key/);
  assert.throws(() => sparseHeadNodes(base, new Float32Array(7), K, 'out'), /first layer/);
});
