/**
 * Evidence shrinkage (src/training/spam/evidence.ts): the formula, the featuriser's known-word
 * count, and parity between the TypeScript formula and the exported graph on a tiny model,
 * including the empty message (scores exactly the prior) and one-word messages.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitPlatt } from '../../src/training/spam/calibrate.js';
import { logits, sigmoid } from '../../src/training/spam/classifier.js';
import { evidenceAnchor, logitOf, shrinkLogit, type Evidence } from '../../src/training/spam/evidence.js';
import { exportSpamModel } from '../../src/training/spam/export-onnx.js';
import { buildVocabulary, featurize, tokenize } from '../../src/training/spam/featurize.js';
import { DENSE_FEATURES, vocabularySize } from '../../src/training/spam/featurizer-graph.js';
import { DEFAULT_TRAIN, trainClassifier } from '../../src/training/spam/optimize.js';
import { openModel, scoreTexts } from '../../src/training/spam/score.js';
import { Prng } from '../../src/training/stats/prng.js';

test('shrinkLogit: no known word gives the prior, k known words half way, many almost the score', () => {
  const e: Evidence = { pseudoCount: 12, prior: 0.25 };
  const z0 = logitOf(0.25);
  assert.equal(shrinkLogit(e, 3, 0), z0);
  assert.ok(Math.abs(shrinkLogit(e, 3, 12) - (z0 + 3) / 2) < 1e-12);
  assert.ok(Math.abs(shrinkLogit(e, 3, 1200) - 3) < 0.05);
  // Shrinkage never crosses the prior: the sign of z − z0 is kept.
  assert.ok(shrinkLogit(e, -4, 5) < z0 && shrinkLogit(e, 4, 5) > z0);
});

test('featurize counts in-vocabulary unigram occurrences (repeats included, unknown words not)', async () => {
  const vocab = {
    unigrams: ['hi', 'there'],
    bigrams: [['hi', 'there']] as [string, string][],
    idf: [1, 1, 1],
  };
  const rows = await featurize(vocab, ['hi hi there stranger', '', 'Hi', 'nothing known']);
  assert.deepEqual(
    rows.map((r) => r.known),
    [3, 0, 1, 0],
  );
});

test('parity: the exported graph shrinks exactly as shrinkLogit does (1e-5); "" scores the prior', async () => {
  const rng = new Prng(7);
  const spam = [
    'win cash now',
    'free prize claim',
    'cheap pills offer',
    'click here money',
    'urgent transfer',
  ];
  const ham = [
    'meeting at noon',
    'patch attached here',
    'see you tomorrow',
    'lunch on friday',
    'thanks for review',
  ];
  const texts: string[] = [];
  const y: number[] = [];
  for (let i = 0; i < 120; i++) {
    const pool = i % 2 ? spam : ham;
    texts.push(`Subject: ${pool[rng.int(5)]}\n\n${pool[rng.int(5)]} ${pool[rng.int(5)]} ${ham[rng.int(5)]}`);
    y.push(i % 2);
  }
  const vocab = buildVocabulary(await tokenize(texts), { minDf: 2, maxUnigrams: 50, maxBigrams: 50 });
  const rows = await featurize(vocab, texts);
  const inputs = vocabularySize(vocab) + DENSE_FEATURES.length;
  const train = { rows: rows.slice(0, 80), y: y.slice(0, 80) };
  const val = { rows: rows.slice(80), y: y.slice(80) };
  const fit = trainClassifier(inputs, train, val, { ...DEFAULT_TRAIN, hidden: 4, epochs: 5 }, 7);
  const platt = fitPlatt(logits(fit.params, val.rows), val.y);
  const evidence: Evidence = { pseudoCount: 12, prior: 0.3 };
  const onnx = exportSpamModel({ vocab, params: fit.params, platt, threshold: 0.5, evidence, metadata: {} });

  const probe = [...texts.slice(0, 20), '', 'win', 'meeting', 'win win win win'];
  const probeRows = await featurize(vocab, probe);
  const expected = Array.from(logits(fit.params, probeRows), (z, i) =>
    sigmoid(shrinkLogit(evidence, platt.a * z + platt.b, probeRows[i]!.known!)),
  );
  const session = await openModel(onnx);
  const served = await scoreTexts(session, probe, 5);
  await session.release();
  probe.forEach((t, i) => {
    assert.ok(Math.abs(served.probability[i]! - expected[i]!) <= 1e-5, `${JSON.stringify(t)}`);
  });
  assert.ok(Math.abs(served.probability[20]! - 0.3) <= 1e-6, 'the empty message scores the prior');
});

test('the anchor (the score of no evidence) stays below the threshold whatever the seed chose', () => {
  // Seed 42: threshold 0.351, well above the spam share: the anchor is the spam share.
  assert.equal(evidenceAnchor(0.254, 0.351), 0.254);
  // Seeds 43 and 44 chose thresholds below the spam share: the anchor moves under them.
  for (const t of [0.2016, 0.2265, 0.1, 0.254]) {
    const a = evidenceAnchor(0.254, t);
    assert.ok(a < t, `anchor ${a} below threshold ${t}`);
    assert.ok(Math.abs(logitOf(t) - logitOf(a) - 0.4) < 1e-9);
  }
  // An empty message (no known word) scores the anchor exactly: ham at any threshold.
  const e: Evidence = { pseudoCount: 12, prior: evidenceAnchor(0.254, 0.2016) };
  assert.ok(sigmoid(shrinkLogit(e, 3, 0)) < 0.2016);
});
