/**
 * The live drift window (src/observability/drift-window.ts): it bins like the reference, keeps only
 * the last `size` items (old ones leave their bins), reports PSI only from the minimum of items,
 * and its PSI equals core/drift.ts's on the same counts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { psi, PSI_ALERT } from '../../src/core/drift.js';
import { parseDriftReference } from '../../src/core/drift-reference.js';
import { DriftWindow } from '../../src/observability/drift-window.js';

const REFERENCE = parseDriftReference({
  schema: 'inferd.drift-reference/v1',
  input: 'text',
  features: [
    { name: 'text_length', kind: 'length', edges: [10], counts: [50, 50] },
    { name: 'url_count', kind: 'count', pattern: 'https?://', edges: [0], counts: [80, 20] },
  ],
  prediction: { output: 'probability', edges: [0.5], counts: [50, 50] },
});

test('a window shaped like the reference has PSI 0; a shifted one passes the alert', () => {
  const w = new DriftWindow(REFERENCE, 1000, 10);
  for (let i = 0; i < 50; i++) w.observe('short', { probability: 0.1 });
  for (let i = 0; i < 50; i++)
    w.observe(i < 20 ? 'long http://x.example' : 'a longer text', { probability: 0.9 });
  const p = w.psi();
  assert.equal(p.get('text_length'), 0);
  assert.equal(p.get('url_count'), 0);
  assert.equal(p.get('prediction'), 0);
  for (let i = 0; i < 300; i++) w.observe('a much longer message', { probability: 0.99 });
  assert.ok(w.psi().get('text_length')! > PSI_ALERT);
  assert.equal(w.items, 400);
});

test('the window keeps the last `size` items: old ones leave their bins', () => {
  const w = new DriftWindow(REFERENCE, 100, 10);
  for (let i = 0; i < 100; i++) w.observe('a longer text than ten', {});
  for (let i = 0; i < 100; i++) w.observe(i % 2 ? 'short' : 'a longer text', {}); // replaces all of them
  assert.equal(w.items, 100);
  assert.equal(w.psi().get('text_length'), psi([50, 50], [50, 50]));
});

test('no PSI below the minimum of items; a missing score leaves the prediction out', () => {
  const w = new DriftWindow(REFERENCE, 100, 10);
  for (let i = 0; i < 9; i++) w.observe('x', {});
  assert.equal(w.psi().size, 0);
  w.observe('x', {});
  assert.deepEqual([...w.psi().keys()], ['text_length', 'url_count']);
});

test('parseDriftReference refuses files that are not a reference', () => {
  for (const bad of [
    null,
    { schema: 'other' },
    {
      schema: 'inferd.drift-reference/v1',
      input: 'text',
      features: [{ name: 'a', kind: 'length', edges: [1], counts: [1] }],
    },
    {
      schema: 'inferd.drift-reference/v1',
      input: 'text',
      features: [{ name: 'a', kind: 'odd', edges: [1], counts: [1, 2] }],
    },
  ]) {
    assert.throws(() => parseDriftReference(bad), /drift-reference/);
  }
});
