/**
 * The behavioural suites beside the model (models/spam/checklist/*.json, run by
 * src/training/spam/checklist.ts) against the committed model: the failure rate per capability is
 * printed and the test fails when it is above the file's `max_failure_rate`.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type ort from 'onnxruntime-node';
import { loadChecklist, runSuite } from '../../src/training/spam/checklist.js';
import { openModel } from '../../src/training/spam/score.js';
import { MODELS, SPAM_MODEL } from './helpers.js';

const suites = loadChecklist(join(MODELS, 'spam', 'checklist'));
let session: ort.InferenceSession | undefined;
after(async () => session?.release());

test('checklist data files exist', () => assert.ok(suites.length >= 3));

for (const suite of suites) {
  test(`checklist ${suite.capability}: failure rate <= ${suite.max_failure_rate}`, async () => {
    session ??= await openModel(SPAM_MODEL);
    const r = await runSuite(session, suite);
    process.stdout.write(
      `# checklist ${r.capability}: ${r.failures.length}/${r.checks} failed (${(r.failureRate * 100).toFixed(1)}%, ` +
        `limit ${(r.maxFailureRate * 100).toFixed(0)}%)\n${r.failures.map((f) => `#   ${f}\n`).join('')}`,
    );
    assert.ok(r.checks > 0, 'capability has checks');
    assert.ok(r.passed, `${r.capability}: ${r.failures.join('; ')}`);
  });
}
