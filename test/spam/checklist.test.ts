/**
 * The behavioural suites beside the model (models/spam/checklist/*.json, run by
 * src/training/spam/checklist.ts) against the shipped `production` version: the failure rate per
 * capability is printed and the test fails when it is above the file's `max_failure_rate`.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type ort from 'onnxruntime-node';
import { loadChecklist, runSuite } from '../../src/training/spam/checklist.js';
import { openModel } from '../../src/training/spam/score.js';
import { readConfig } from '../../src/training/spam/artifacts.js';
import { MODELS } from './helpers.js';

const suites = loadChecklist(join(MODELS, 'spam', 'checklist'));
const production = readConfig(MODELS).aliases?.['production'] ?? '1';
let session: ort.InferenceSession | undefined;
after(async () => session?.release());

test('checklist data files exist', () => assert.ok(suites.length >= 3));

for (const suite of suites) {
  test(`checklist ${suite.capability}: failure rate <= ${suite.max_failure_rate}`, async () => {
    session ??= await openModel(join(MODELS, 'spam', production, 'model.onnx'));
    const r = await runSuite(session, suite);
    process.stdout.write(
      `# checklist ${r.capability}: ${r.failures.length}/${r.checks} failed (${(r.failureRate * 100).toFixed(1)}%, ` +
        `limit ${(r.maxFailureRate * 100).toFixed(0)}%)\n${r.failures.map((f) => `#   ${f}\n`).join('')}`,
    );
    assert.ok(r.checks > 0, 'capability has checks');
    assert.ok(r.passed, `${r.capability}: ${r.failures.join('; ')}`);
  });
}
