/**
 * Training pipeline tests on tiny data (no full retrain): metrics, calibration, dedup, split,
 * determinism (same seed => byte-identical ONNX) and training/serving parity.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyPlatt, chooseThreshold, fitPlatt } from '../../src/training/spam/calibrate.js';
import { logits } from '../../src/training/spam/classifier.js';
import { deduplicate } from '../../src/training/spam/dedup.js';
import { exportSpamModel } from '../../src/training/spam/export-onnx.js';
import { buildVocabulary, featurize, tokenize } from '../../src/training/spam/featurize.js';
import { DENSE_FEATURES, vocabularySize } from '../../src/training/spam/featurizer-graph.js';
import { binaryMetrics, expectedCalibrationError, rocAuc } from '../../src/training/spam/metrics.js';
import { DEFAULT_TRAIN, trainClassifier } from '../../src/training/spam/optimize.js';
import { Prng } from '../../src/training/stats/prng.js';
import { openModel, scoreTexts } from '../../src/training/spam/score.js';
import { stratifiedSplit } from '../../src/training/spam/split.js';

test('metrics: ROC-AUC with ties, ECE, confusion-based scores', () => {
  assert.equal(rocAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]), 0.75);
  assert.equal(rocAuc([0.5, 0.5], [0, 1]), 0.5);
  assert.ok(Math.abs(expectedCalibrationError([0.9, 0.9, 0.1, 0.1], [1, 0, 0, 0]) - 0.25) < 1e-12);
  const m = binaryMetrics([0.9, 0.8, 0.2, 0.6], [1, 1, 0, 0], 0.5);
  assert.deepEqual(m.confusion, { tp: 2, fp: 1, tn: 1, fn: 0 });
  assert.ok(Math.abs(m.precision - 2 / 3) < 1e-12 && m.recall === 1 && Math.abs(m.f1 - 0.8) < 1e-12);
});

test('Platt scaling recovers a known calibration map; threshold maximises F1', () => {
  const rng = new Prng(7);
  const z: number[] = [];
  const y: number[] = [];
  for (let i = 0; i < 20000; i++) {
    const zi = rng.normal() * 3;
    z.push(zi);
    y.push(rng.next() < 1 / (1 + Math.exp(-(0.5 * zi - 1))) ? 1 : 0);
  }
  const p = fitPlatt(z, y);
  assert.ok(Math.abs(p.a - 0.5) < 0.05 && Math.abs(p.b + 1) < 0.08, JSON.stringify(p));
  assert.ok(expectedCalibrationError(applyPlatt(p, z), y) < 0.02);
  assert.equal(chooseThreshold([0.1, 0.2, 0.7, 0.9], [0, 0, 1, 1]), 0.45);
});

test('dedup removes exact (formatting-only) and near duplicates, keeps distinct texts', () => {
  const base = 'the quick brown fox jumps over the lazy dog and runs far away into the forest tonight ';
  const texts = [
    base.repeat(3),
    base.toUpperCase().repeat(3),
    `${base.repeat(3)} extra`,
    'a different message entirely about cats and mice and cheese and more',
  ];
  const r = deduplicate(texts, [0, 0, 0, 1]);
  assert.deepEqual(r.keep, [0, 3]);
  assert.equal(r.exactRemoved, 1);
  assert.equal(r.nearRemoved, 1);
});

test('stratified split: deterministic per seed, disjoint, proportional per stratum', () => {
  const strata = Array.from({ length: 1000 }, (_, i) =>
    i % 10 === 0 ? 'hard' : i % 3 === 0 ? 'spam' : 'ham',
  );
  const a = stratifiedSplit(strata, 1);
  assert.deepEqual(stratifiedSplit(strata, 1), a);
  assert.notDeepEqual(stratifiedSplit(strata, 2).test, a.test);
  const all = [...a.train, ...a.validation, ...a.test];
  assert.equal(new Set(all).size, 1000);
  const hardInTest = a.test.filter((i) => strata[i] === 'hard').length;
  assert.equal(hardInTest, 20, '20% of the 100 hard items');
});

// A tiny synthetic corpus: enough to train, export and compare.
function tinyCorpus(seed: number): { texts: string[]; y: number[] } {
  const rng = new Prng(seed);
  const spam = [
    'free money now',
    'click here to win',
    'cheap meds online',
    'act now limited offer',
    'you have won $1000',
  ];
  const ham = [
    'meeting notes attached',
    'the patch fixes the bug',
    'see you at dinner',
    'kernel compile fails',
    'thanks for the review',
  ];
  const texts: string[] = [];
  const y: number[] = [];
  for (let i = 0; i < 120; i++) {
    const label = i % 2;
    const pool = label ? spam : ham;
    texts.push(`Subject: ${pool[rng.int(5)]}\n\n${pool[rng.int(5)]} ${pool[rng.int(5)]} ${ham[rng.int(5)]}`);
    y.push(label);
  }
  return { texts, y };
}

async function trainTiny(seed: number): Promise<{ onnx: Uint8Array; tsProb: Float64Array; texts: string[] }> {
  const { texts, y } = tinyCorpus(seed);
  const tokens = await tokenize(texts);
  const vocab = buildVocabulary(tokens, { minDf: 2, maxUnigrams: 50, maxBigrams: 50 });
  const rows = await featurize(vocab, texts);
  const inputs = vocabularySize(vocab) + DENSE_FEATURES.length;
  const half = { rows: rows.slice(0, 80), y: y.slice(0, 80) };
  const val = { rows: rows.slice(80), y: y.slice(80) };
  const fit = trainClassifier(inputs, half, val, { ...DEFAULT_TRAIN, hidden: 4, epochs: 5 }, seed);
  const platt = fitPlatt(logits(fit.params, val.rows), val.y);
  const onnx = exportSpamModel({
    vocab,
    params: fit.params,
    platt,
    threshold: 0.5,
    metadata: { seed: String(seed) },
  });
  return { onnx, tsProb: applyPlatt(platt, logits(fit.params, rows)), texts };
}

test('same seed => byte-identical ONNX; different seed => different weights', async () => {
  const a = await trainTiny(3);
  const b = await trainTiny(3);
  const c = await trainTiny(4);
  assert.deepEqual(Buffer.from(a.onnx), Buffer.from(b.onnx));
  assert.notDeepEqual(Buffer.from(a.onnx), Buffer.from(c.onnx));
});

test('parity: TypeScript training-time scores equal the exported model served by onnxruntime (1e-5)', async () => {
  const t = await trainTiny(5);
  const session = await openModel(t.onnx);
  const served = await scoreTexts(session, t.texts, 7);
  await session.release();
  t.texts.forEach((_, i) => {
    assert.ok(Math.abs((served.probability[i] as number) - (t.tsProb[i] as number)) <= 1e-5, `row ${i}`);
  });
});
