/**
 * `inferd train` end to end on a tiny slice of the corpus: the version folder holds the model, its
 * metrics, a lineage manifest that matches the file and names what it was compared against, and a
 * drift reference; the repository's load-time check and the registry accept it.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Lineage } from '../../src/core/lineage.js';
import { verifyLineage } from '../../src/repository/lineage.js';
import { listVersionEntries } from '../../src/repository/registry.js';
import type { DriftReference } from '../../src/training/spam/drift-reference.js';
import { createProgress } from '../../src/training/spam/progress.js';
import { trainSpam } from '../../src/training/spam/train.js';
import { MODELS } from './helpers.js';

const repo = mkdtempSync(join(tmpdir(), 'inferd-train-artifacts-'));
after(() => rmSync(repo, { recursive: true, force: true }));

test('a trained version carries its lineage and drift reference', async () => {
  // An existing production version 1, as a repository has before the weekly retrain.
  cpSync(join(MODELS, 'spam'), join(repo, 'spam'), { recursive: true });
  const r = await trainSpam({
    out: repo,
    seed: 7,
    limit: 80,
    train: { epochs: 2, hidden: 0 },
    vocab: { maxUnigrams: 300, maxBigrams: 100 },
    progress: createProgress({ quiet: true }),
  });
  assert.equal(r.metrics.version, '2');
  const dir = join(repo, 'spam', '2');
  const lineage = JSON.parse(readFileSync(join(dir, 'lineage.json'), 'utf8')) as Lineage;
  assert.equal(
    lineage.artifact.sha256,
    createHash('sha256')
      .update(readFileSync(join(dir, 'model.onnx')))
      .digest('hex'),
  );
  assert.equal(lineage.artifact.bytes, r.onnx.length);
  assert.match(lineage.data.sha256, /^[0-9a-f]{64}$/);
  assert.deepEqual(
    [lineage.data.rows['train'], lineage.data.rows['validation'], lineage.data.rows['test']],
    [80, 80, 80],
  );
  // The split seed is fixed: a version trained with another seed shares version 1's test split.
  const v1 = JSON.parse(readFileSync(join(MODELS, 'spam', '1', 'lineage.json'), 'utf8')) as Lineage;
  assert.equal(lineage.parameters['split_seed'], v1.parameters['split_seed']);
  assert.equal(lineage.parameters['seed'], 7);
  assert.deepEqual(lineage.compared_against, { ref: 'production', version: '1' });
  assert.equal(lineage.metrics['threshold'], r.metrics.threshold);
  assert.ok(await verifyLineage(dir));

  const reference = JSON.parse(readFileSync(join(dir, 'drift_reference.json'), 'utf8')) as DriftReference;
  assert.deepEqual(
    reference.features.map((f) => f.name),
    ['text_length', 'url_count'],
  );
  for (const f of reference.features)
    assert.equal(
      f.counts.reduce((a, b) => a + b, 0),
      80,
    );
  assert.equal(
    reference.prediction.counts.reduce((a, b) => a + b, 0),
    80,
  );

  const entries = await listVersionEntries(repo, 'spam');
  assert.deepEqual(
    entries.map((e) => [e.version, e.integrity]),
    [
      ['1', 'verified'],
      ['2', 'verified'],
    ],
  );
});
