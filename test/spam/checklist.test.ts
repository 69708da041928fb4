/**
 * Behavioural tests in the CheckList style (Ribeiro et al. 2020). The cases live in
 * test/spam/checklist/*.json; this is the one runner. Each file is one capability with its own
 * `max_failure_rate` (stated in the file); the failure rate per capability is printed and the
 * test fails when it is above that rate.
 *   - expect (MFT): the label must equal `expect`;
 *   - variants without direction (INV): no variant's label may differ from the base's label;
 *   - direction up/down (DIR): each variant's logit must be above/below the base's.
 * A case with several variants counts one check per variant.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type ort from 'onnxruntime-node';
import { openModel, scoreTexts } from '../../src/training/spam/score.js';
import { logit, SPAM_MODEL, TEST_DATA } from './helpers.js';

interface ChecklistCase {
  name: string;
  text?: string;
  expect?: 'spam' | 'ham';
  base?: string;
  variants?: string[];
  direction?: 'up' | 'down';
}

interface ChecklistFile {
  capability: string;
  description: string;
  max_failure_rate: number;
  tests: ChecklistCase[];
}

const dir = join(TEST_DATA, 'checklist');
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort();
let session: ort.InferenceSession | undefined;
after(async () => session?.release());

async function run(c: ChecklistCase): Promise<string[]> {
  session ??= await openModel(SPAM_MODEL);
  if (c.expect !== undefined) {
    const s = await scoreTexts(session, [c.text ?? '']);
    return s.label[0] === c.expect
      ? []
      : [`${c.name}: expected ${c.expect}, got ${s.label[0]} (p=${s.probability[0]})`];
  }
  const variants = c.variants ?? [];
  const s = await scoreTexts(session, [c.base ?? '', ...variants]);
  const base = s.probability[0] as number;
  const failures: string[] = [];
  variants.forEach((_, i) => {
    const p = s.probability[i + 1] as number;
    if (c.direction === undefined && s.label[i + 1] !== s.label[0]) {
      failures.push(`${c.name}[${i}]: label flipped ${s.label[0]} -> ${s.label[i + 1]}`);
    }
    if (c.direction === 'up' && !(logit(p) > logit(base)))
      failures.push(`${c.name}[${i}]: p ${base} -> ${p}, expected up`);
    if (c.direction === 'down' && !(logit(p) < logit(base))) {
      failures.push(`${c.name}[${i}]: p ${base} -> ${p}, expected down`);
    }
  });
  return failures;
}

test('checklist data files exist', () => assert.ok(files.length >= 3));

for (const file of files) {
  const spec = JSON.parse(readFileSync(join(dir, file), 'utf8')) as ChecklistFile;
  test(`checklist ${spec.capability}: failure rate <= ${spec.max_failure_rate}`, async () => {
    let checks = 0;
    const failures: string[] = [];
    for (const c of spec.tests) {
      checks += c.expect !== undefined ? 1 : (c.variants?.length ?? 0);
      failures.push(...(await run(c)));
    }
    const rate = failures.length / Math.max(1, checks);
    process.stdout.write(
      `# checklist ${spec.capability}: ${failures.length}/${checks} failed (${(rate * 100).toFixed(1)}%, ` +
        `limit ${(spec.max_failure_rate * 100).toFixed(0)}%)\n${failures.map((f) => `#   ${f}\n`).join('')}`,
    );
    assert.ok(checks > 0, 'capability has checks');
    assert.ok(rate <= spec.max_failure_rate, `${spec.capability}: ${failures.join('; ')}`);
  });
}
