/**
 * Golden outputs of the committed model through onnxruntime-node: fixed messages give fixed scores
 * (within 1e-5). Also checks row independence (alone == inside a batch, within 1e-6), that the
 * label follows the recorded threshold, and that odd inputs (empty, huge) do not crash.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { openModel, scoreTexts } from '../../src/training/spam/score.js';
import { readMetrics } from '../../src/training/spam/artifacts.js';
import { GOLDEN_MESSAGES, GOLDEN_PATH, type GoldenEntry } from './golden-messages.js';
import { MODELS, SPAM_MODEL } from './helpers.js';

const golden = JSON.parse(readFileSync(GOLDEN_PATH, 'utf8')) as { entries: GoldenEntry[] };
const session = await openModel(SPAM_MODEL);
after(async () => session.release());

test('golden file covers the fixed messages', () => {
  assert.deepEqual(
    golden.entries.map((e) => e.text),
    [...GOLDEN_MESSAGES],
  );
});

test('fixed messages give their golden scores and labels (1e-5)', async () => {
  const r = await scoreTexts(session, GOLDEN_MESSAGES, 4);
  golden.entries.forEach((e, i) => {
    assert.ok(
      Math.abs((r.probability[i] as number) - e.probability) <= 1e-5,
      `message ${i}: ${r.probability[i]} vs ${e.probability}`,
    );
    assert.equal(r.label[i], e.label, `message ${i}`);
  });
});

test('a message scores the same alone and inside a batch of 5 (1e-6), in any position', async () => {
  const texts = GOLDEN_MESSAGES.slice(0, 5);
  const batch = await scoreTexts(session, texts, 5);
  const reversed = await scoreTexts(session, [...texts].reverse(), 5);
  for (let i = 0; i < texts.length; i++) {
    const alone = await scoreTexts(session, [texts[i] as string], 1);
    assert.ok(Math.abs((alone.probability[0] as number) - (batch.probability[i] as number)) <= 1e-6);
    assert.ok(
      Math.abs((alone.probability[0] as number) - (reversed.probability[texts.length - 1 - i] as number)) <=
        1e-6,
    );
  }
});

test('label is spam exactly when probability >= the recorded threshold', async () => {
  const { threshold } = readMetrics(MODELS, '1');
  const r = await scoreTexts(session, GOLDEN_MESSAGES, 10);
  r.label.forEach((l, i) => assert.equal(l, (r.probability[i] as number) >= threshold ? 'spam' : 'ham'));
  assert.ok(r.label.includes('spam') && r.label.includes('ham'), 'golden set has both labels');
});

test('empty strings alone and in a batch of only empty strings do not crash', async () => {
  const r = await scoreTexts(session, ['', '', ''], 3);
  assert.equal(r.probability.length, 3);
  assert.ok(r.probability.every((p) => p > 0 && p < 1));
});
