/**
 * Corrections as training rows (src/training/spam/feedback.ts): a correction that copies or nearly
 * copies any corpus message (test split included) or an earlier correction is dropped; the digest
 * covers exactly the rows kept, in order.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Example } from '../../src/training/spam/dataset.js';
import { addFeedback } from '../../src/training/spam/feedback.js';

const words = (seed: string, n = 40): string =>
  Array.from({ length: n }, (_, i) => `${seed}${(i * 7919) % 101}`).join(' ');

const corpus: Example[] = [
  { key: 'easy-ham-1/1', label: 0, stratum: 'easy-ham', text: words('lunch') },
  { key: 'spam-1/2', label: 1, stratum: 'spam', text: words('prize') },
];

test('drops exact and near copies of the corpus and of earlier corrections', () => {
  const near = `${words('prize', 39)} extra`; // 39 of 40 words shared with a corpus message
  const r = addFeedback(corpus, [
    { id: 'k/1', text: words('invoice'), label: 0 },
    { id: 'k/2', text: corpus[0]!.text.toUpperCase(), label: 1 },
    { id: 'k/3', text: near, label: 1 },
    { id: 'k/4', text: words('invoice'), label: 1 },
    { id: 'k/5', text: words('meds'), label: 1 },
  ]);
  assert.deepEqual(
    r.examples.map((e) => [e.key, e.label, e.stratum]),
    [
      ['feedback/k/1', 0, 'feedback'],
      ['feedback/k/5', 1, 'feedback'],
    ],
  );
  assert.equal(r.duplicates, 3);
  assert.equal(r.lineage.rows, 2);
  assert.match(r.lineage.sha256, /^[0-9a-f]{64}$/);
  // Same rows kept, same digest; another row kept, another digest.
  assert.equal(
    addFeedback(corpus, [
      { id: 'k/1', text: words('invoice'), label: 0 },
      { id: 'k/5', text: words('meds'), label: 1 },
    ]).lineage.sha256,
    r.lineage.sha256,
  );
  assert.notEqual(
    addFeedback(corpus, [{ id: 'k/1', text: words('invoice'), label: 0 }]).lineage.sha256,
    r.lineage.sha256,
  );
});

test('no corrections: zero rows, the digest of nothing', () => {
  const r = addFeedback(corpus, []);
  assert.deepEqual(r.lineage, {
    rows: 0,
    sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  });
});
