/**
 * Issue #17's acceptance, "feedback round trip": predictions with the served spam model → feedback
 * through /v1 → `train spam --with-feedback` (the CLI's store reader, then training on a tiny slice
 * of the corpus) → lineage.json names the corrections. A correction that copies a held-out test
 * message is dropped (it would leak the test split into training); the committed models/spam is
 * copied, never written.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { readSpamFeedback } from '../../src/cli/commands/train-feedback.js';
import type { Lineage } from '../../src/core/lineage.js';
import { DEFAULT_PLANS, type PlanSet } from '../../src/gateway/plans.js';
import { loadExamples } from '../../src/training/spam/dataset.js';
import { createProgress } from '../../src/training/spam/progress.js';
import { trainSpam } from '../../src/training/spam/train.js';
import { bearer, startGatewayServer, type GatewayServer } from '../api/server.js';
import { MODELS } from './helpers.js';

const PLANS: PlanSet = {
  ...DEFAULT_PLANS,
  plans: { ...DEFAULT_PLANS.plans, keeper: { ...DEFAULT_PLANS.plans['pro']!, keepInputs: true } },
};

let repo: string;
let out: string;
let g: GatewayServer;

before(async () => {
  repo = mkdtempSync(join(tmpdir(), 'inferd-fb-repo-'));
  out = mkdtempSync(join(tmpdir(), 'inferd-fb-out-'));
  cpSync(join(MODELS, 'spam'), join(repo, 'spam'), { recursive: true });
  g = await startGatewayServer(repo, { plans: PLANS });
});
after(async () => {
  await g?.close();
  rmSync(repo, { recursive: true, force: true });
  rmSync(out, { recursive: true, force: true });
});

test('predictions → feedback → train --with-feedback → the lineage names it', async () => {
  const key = (await g.admin.create({ name: 'roundtrip', plan: 'keeper' })).key;
  const metrics = JSON.parse(readFileSync(join(MODELS, 'spam', '1', 'metrics.json'), 'utf8')) as {
    split: { test_keys: string[] };
  };
  const [heldOut] = await loadExamples([metrics.split.test_keys[0]!]);
  assert.ok(heldOut);
  const messages = [
    // Novel messages a customer says the model got wrong or right.
    'Subject: quarterly invoice 4471\n\nHi team, attached is the invoice for the zebra-cactus consulting retainer, due on the 14th.',
    'Subject: cheap meds no prescription\n\nOrder pills online today, discreet shipping, limited offer for valued customers only.',
    // A held-out test message sent in as if by a customer: it must not reach training.
    heldOut.text,
  ];
  const labels = ['ham', 'spam', heldOut.label === 1 ? 'spam' : 'ham'];
  for (const [i, text] of messages.entries()) {
    const r = await fetch(`${g.url}/v1/models/spam/predict`, {
      method: 'POST',
      headers: bearer(key),
      body: JSON.stringify({ text }),
    });
    assert.equal(r.status, 200);
    const id = r.headers.get('x-request-id')!;
    const f = await fetch(`${g.url}/v1/models/spam/feedback`, {
      method: 'POST',
      headers: bearer(key),
      body: JSON.stringify({ request_id: id, label: labels[i] }),
    });
    assert.equal(f.status, 201, await f.clone().text());
    assert.equal(((await f.json()) as { input_kept: boolean }).input_kept, true);
  }

  // What `inferd train spam --with-feedback --data-dir <the server's>` reads.
  const read = await readSpamFeedback({ dataDir: g.dataDir });
  assert.equal(read.rows.length, 3);
  assert.deepEqual(
    read.rows.map((r) => r.label),
    [0, 1, heldOut.label],
  );

  const r = await trainSpam({
    out,
    seed: 7,
    limit: 80,
    train: { epochs: 2, hidden: 0 },
    vocab: { maxUnigrams: 300, maxBigrams: 100 },
    feedback: read.rows,
    progress: createProgress({ quiet: true }),
  });
  const lineage = JSON.parse(readFileSync(join(r.dir, 'lineage.json'), 'utf8')) as Lineage;
  // The two novel corrections, and not the copy of the test message.
  const digest = createHash('sha256');
  for (const row of read.rows.slice(0, 2)) {
    digest.update(`${row.id}\t${row.label}\t${createHash('sha256').update(row.text).digest('hex')}\n`);
  }
  assert.deepEqual(lineage.data.feedback, { rows: 2, sha256: digest.digest('hex') });
  assert.equal(lineage.data.rows['train'], 80 + 2, 'corrections join the train split');
  assert.equal(lineage.data.rows['test'], 80, 'and never the test split');
  assert.ok(!r.metrics.split.test_keys.some((k) => k.startsWith('feedback/')));
});

test('`inferd train` offers --with-feedback and the store options', () => {
  const r = spawnSync(process.execPath, ['bin/inferd.js', 'train', '--help'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  for (const o of ['--with-feedback', '--data-dir', '--database-url', '--database-schema']) {
    assert.ok(r.stdout.includes(o), `missing ${o}`);
  }
});
