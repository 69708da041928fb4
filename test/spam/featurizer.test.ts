/**
 * Featurisation tests: the in-graph tokenizer's semantics (run through onnxruntime), vocabulary
 * building, and row independence of the features.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildVocabulary, featurize, tokenize } from '../../src/training/spam/featurize.js';
import { DENSE_FEATURES, vocabularySize } from '../../src/training/spam/featurizer-graph.js';

test('tokenizer lower-cases, splits on spaces, line breaks and CR, and splits addresses at @', async () => {
  const [t] = await tokenize(['From: Bob <BOB@Example.COM>\r\nFREE  Money\nÄrger']);
  assert.ok(t);
  assert.deepEqual(t.pieces, ['from:', 'bob', '<bob', 'example.com>', 'free', 'money', 'ärger']);
  // Words keep '' for the double space and the line-break-joined tokens, so no bigram spans them.
  assert.deepEqual(t.words, ['from:', 'bob', '<bob@example.com>\r\nfree', '', 'money\närger']);
});

test('tokenizer handles empty and whitespace-only messages', async () => {
  const out = await tokenize(['', '\n\n', '   ']);
  assert.deepEqual(
    out.map((t) => t.pieces),
    [[], [], []],
  );
});

test('vocabulary: document frequency, min df, bigrams never across line breaks, idf ordering', () => {
  const docs = [
    { pieces: ['free', 'money', 'now'], words: ['free', 'money', 'now'] },
    { pieces: ['free', 'money'], words: ['free', 'money'] },
    { pieces: ['free', 'lunch'], words: ['free\nlunch'] },
  ];
  const v = buildVocabulary(docs, { minDf: 2, maxUnigrams: 10, maxBigrams: 10 });
  assert.deepEqual(v.unigrams, ['free', 'money']);
  assert.deepEqual(v.bigrams, [['free', 'money']]);
  assert.equal(v.idf.length, 3);
  assert.ok((v.idf[0] as number) < (v.idf[1] as number), 'rarer term has the larger idf');
});

test('features: counted through the graph, L2-normalised words, dense log counts, batch independent', async () => {
  const v = buildVocabulary(
    [
      { pieces: ['free', 'money'], words: ['free', 'money'] },
      { pieces: ['free', 'money'], words: ['free', 'money'] },
    ],
    { minDf: 1, maxUnigrams: 10, maxBigrams: 10 },
  );
  const texts = ['FREE money http://x.com', '', 'free\nmoney', 'a much longer message '.repeat(50)];
  const rows = await featurize(v, texts);
  const alone = await featurize(v, [texts[0] as string]);
  assert.deepEqual(rows[0], alone[0], 'a row does not depend on its batch');
  const width = vocabularySize(v);
  const r0 = rows[0]!;
  let sq = 0;
  for (let n = 0; n < r0.idx.length; n++) if ((r0.idx[n] as number) < width) sq += (r0.val[n] as number) ** 2;
  assert.ok(Math.abs(sq - 1) < 1e-5, 'word part has unit L2 norm');
  const links = DENSE_FEATURES.indexOf('links');
  const linkVal = r0.val[Array.from(r0.idx).indexOf(width + links)];
  assert.ok(Math.abs((linkVal as number) - Math.log(2)) < 1e-6, 'one link => log(1 + 1)');
  assert.equal(rows[1]!.idx.length, 0, 'empty message has no features');
  // 'free\nmoney' has the unigrams but not the bigram (line break).
  assert.deepEqual(
    Array.from(rows[2]!.idx).filter((i) => i < width),
    [0, 1],
  );
});
