// Sweep of the evidence pseudo-count k (src/training/spam/evidence.ts) for the spam model:
//   node bench/spam-evidence-sweep.mjs        (after `npm run build`; ~2 min on 2 cores)
// Trains the classifier as `inferd train spam --seed 42` does (same split, vocabulary, MLP and
// Platt map), then for each k scores, with the TypeScript form of the graph (parity 1e-5,
// test/spam/evidence.test.ts), the development set k is chosen on (bench/spam-short-dev.json),
// the CheckList suite that reports the effect (models/spam/checklist/short-messages.json) and the
// test split, all at the validation-chosen threshold. Choose k on the dev column only.
import { readFileSync } from 'node:fs';
import { chooseThreshold, fitPlatt } from '../dist/src/training/spam/calibrate.js';
import { logits, sigmoid } from '../dist/src/training/spam/classifier.js';
import { prepareData } from '../dist/src/training/spam/dataset.js';
import { shrinkLogit } from '../dist/src/training/spam/evidence.js';
import { buildVocabulary, DEFAULT_VOCAB, featurize, tokenize } from '../dist/src/training/spam/featurize.js';
import { DENSE_FEATURES, vocabularySize } from '../dist/src/training/spam/featurizer-graph.js';
import { binaryMetrics } from '../dist/src/training/spam/metrics.js';
import { DEFAULT_TRAIN, trainClassifier } from '../dist/src/training/spam/optimize.js';

const SEED = 42;
const texts = (xs) => xs.map((e) => e.text);
const labels = (xs) => xs.map((e) => e.label);
const suite = (path) =>
  JSON.parse(readFileSync(path, 'utf8')).tests.map((t) => ({
    text: t.text,
    label: t.expect === 'spam' ? 1 : 0,
  }));

const data = await prepareData(SEED);
// train.ts's settings: SPAM_VOCAB and SPAM_TRAIN.
const vocab = buildVocabulary(await tokenize(texts(data.train)), {
  ...DEFAULT_VOCAB,
  maxUnigrams: 8000,
  maxBigrams: 4000,
});
const trainRows = await featurize(vocab, texts(data.train));
const valRows = await featurize(vocab, texts(data.validation));
const inputs = vocabularySize(vocab) + DENSE_FEATURES.length;
const fit = trainClassifier(
  inputs,
  { rows: trainRows, y: labels(data.train) },
  { rows: valRows, y: labels(data.validation) },
  { ...DEFAULT_TRAIN, hidden: 16 },
  SEED,
);
const platt = fitPlatt(logits(fit.params, valRows), labels(data.validation));
const calibrated = (rows) => Array.from(logits(fit.params, rows), (z) => platt.a * z + platt.b);
const threshold = chooseThreshold(calibrated(valRows).map(sigmoid), labels(data.validation));
const prior = labels(data.train).reduce((a, b) => a + b, 0) / data.train.length;

const sets = {
  dev: suite('bench/spam-short-dev.json'),
  suite: suite('models/spam/checklist/short-messages.json'),
  test: data.test,
};
const scored = {};
for (const [name, xs] of Object.entries(sets)) {
  const rows = await featurize(vocab, texts(xs));
  scored[name] = { z: calibrated(rows), known: rows.map((r) => r.known), y: labels(xs) };
}
const probs = (s, k) =>
  s.z.map((z, i) => (k === 0 ? sigmoid(z) : sigmoid(shrinkLogit({ pseudoCount: k, prior }, z, s.known[i]))));
const errors = (s, p) => {
  let ham = 0;
  let spam = 0;
  p.forEach((pi, i) => {
    if ((pi >= threshold ? 1 : 0) !== s.y[i]) {
      if (s.y[i]) spam++;
      else ham++;
    }
  });
  const nSpam = s.y.reduce((a, b) => a + b, 0);
  return `${ham + spam}/${s.y.length} (ham ${ham}/${s.y.length - nSpam}, spam ${spam}/${nSpam})`;
};
console.log(`threshold ${threshold}, prior ${prior.toFixed(4)}, best epoch ${fit.bestEpoch}\n`);
console.log('| k | dev failures | suite failures | test F1 |\n|---|---|---|---|');
for (const k of [0, 1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 20, 30, 50]) {
  const f1 = binaryMetrics(Float64Array.from(probs(scored.test, k)), scored.test.y, threshold).f1;
  console.log(
    `| ${k} | ${errors(scored.dev, probs(scored.dev, k))} | ${errors(scored.suite, probs(scored.suite, k))} | ${f1.toFixed(4)} |`,
  );
}
