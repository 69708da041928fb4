/**
 * The release gate: `evaluate` passes on the committed model and on an equal candidate, and really
 * fails (exit 1 through the CLI command) on a deliberately degraded model by the floors, the
 * regression-vs-production rule and McNemar's test; usage errors exit 2.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import onnxProto from 'onnx-proto';
import { addTrainCommands } from '../../src/cli/commands/train.js';
import { evaluateSpam } from '../../src/training/spam/evaluate.js';
import { reportJson, reportMarkdown, reportText } from '../../src/training/spam/gate-report.js';
import { MODELS } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'inferd-spam-gate-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** A copy of the committed model whose output layer weights and bias are zeroed: a constant score. */
function degradedModel(): Uint8Array {
  const { onnx } = onnxProto;
  const model = onnx.ModelProto.decode(readFileSync(join(MODELS, 'spam', '1', 'model.onnx')));
  let zeroed = 0;
  for (const t of model.graph?.initializer ?? []) {
    if (t.name === 'c_w2' || t.name === 'c_b2' || t.name === 'c_w') {
      t.rawData = new Uint8Array(t.rawData?.length ?? 0);
      zeroed++;
    }
  }
  assert.ok(zeroed >= 2, 'found the output layer to degrade');
  return onnx.ModelProto.encode(model).finish();
}

/** Repository with production v1 = committed model and v2 = degraded (or an equal copy); `floors` override config's. */
function makeRepo(name: string, floors?: Record<string, number>, degrade = true): string {
  const repo = join(tmp, name);
  cpSync(join(MODELS, 'spam'), join(repo, 'spam'), { recursive: true });
  cpSync(join(repo, 'spam', '1'), join(repo, 'spam', '2'), { recursive: true });
  if (degrade) writeFileSync(join(repo, 'spam', '2', 'model.onnx'), degradedModel());
  if (floors) {
    const cfgPath = join(repo, 'spam', 'config.json');
    const cfg = JSON.parse(readFileSync(cfgPath, 'utf8')) as {
      evaluation: { floors: Record<string, number> };
    };
    cfg.evaluation.floors = floors;
    writeFileSync(cfgPath, JSON.stringify(cfg));
  }
  return repo;
}

async function cli(args: string[]): Promise<number> {
  const program = new Command().exitOverride();
  addTrainCommands(program);
  const out = process.stdout.write;
  process.stdout.write = (() => true) as typeof process.stdout.write;
  try {
    process.exitCode = 0;
    await program.parseAsync(['node', 'inferd', ...args]);
    return Number(process.exitCode ?? 0);
  } finally {
    process.stdout.write = out;
    process.exitCode = 0;
  }
}

test('the committed model passes its gate (no comparison: it is production)', async () => {
  const r = await evaluateSpam({ repository: MODELS });
  assert.equal(r.candidate.version, '1');
  assert.ok(r.passed, reportText(r));
  assert.ok(r.examples > 500);
  assert.equal(r.against, undefined, 'evaluated version is production: no comparison');
  // Behaviour suites and the budget are part of the gate.
  assert.ok(r.decision.checks.filter((c) => c.kind === 'behaviour').length >= 3);
  assert.ok(r.decision.checks.some((c) => c.kind === 'budget'));
  assert.ok(r.candidate.latency.calls > 0 && r.candidate.latency.p99Ms > 0);
});

test('an equal candidate passes against production, with no significant difference', async () => {
  const repo = makeRepo('equal', undefined, false);
  const r = await evaluateSpam({ repository: repo, candidate: '2', against: 'production' });
  assert.equal(r.against?.version, '1');
  const s = r.decision.significance;
  assert.ok(s);
  assert.deepEqual([s.mcnemar.b, s.mcnemar.c, s.mcnemar.pValue], [0, 0, 1]);
  assert.deepEqual([s.f1Difference.low, s.f1Difference.high], [0, 0]);
  assert.ok(r.passed, reportText(r));
  assert.equal(await cli(['evaluate', 'spam', '--model-repository', repo, '--candidate', '2']), 0);
});

test('a degraded model fails the floors, the regression and the significance test; the CLI exits 1', async () => {
  const repo = makeRepo('floors');
  const r = await evaluateSpam({ repository: repo });
  assert.equal(r.candidate.version, '2', 'defaults to the highest version');
  assert.equal(r.against?.ref, 'production');
  assert.equal(r.passed, false);
  const failed = (kind: string): boolean => r.decision.checks.some((c) => c.kind === kind && !c.passed);
  assert.ok(failed('floor') && failed('regression') && failed('significance'), reportText(r));
  assert.ok((r.decision.significance?.mcnemar.pWorse ?? 1) < 1e-6);
  assert.ok((r.decision.significance?.f1Difference.high ?? 0) < 0);
  assert.match(reportText(r), /GATE FAILED/);
  assert.match(reportMarkdown(r), /^## Release gate: FAILED/);
  const json = JSON.parse(reportJson(r)) as { passed: boolean; significance: { p_candidate_worse: number } };
  assert.equal(json.passed, false);
  assert.ok(json.significance.p_candidate_worse < 1e-6);

  const out = join(tmp, 'report');
  assert.equal(
    await cli([
      'evaluate',
      'spam',
      '--model-repository',
      repo,
      '--markdown',
      `${out}.md`,
      '--json',
      `${out}.json`,
    ]),
    1,
  );
  assert.match(readFileSync(`${out}.md`, 'utf8'), /McNemar/);
  assert.equal((JSON.parse(readFileSync(`${out}.json`, 'utf8')) as { passed: boolean }).passed, false);
  assert.equal(await cli(['evaluate', 'spam', '--model-repository', repo, '--candidate', '1']), 0);
});

test('with floors at zero, a degraded model still fails on regression vs production', async () => {
  const repo = makeRepo('regression', { f1: 0, precision: 0, roc_auc: 0 });
  const r = await evaluateSpam({ repository: repo, against: '1' });
  assert.ok(r.against && r.against.metrics.f1 > 0.9);
  assert.ok(r.decision.checks.filter((c) => c.kind === 'floor').every((c) => c.passed));
  assert.ok(r.decision.checks.some((c) => c.kind === 'regression' && !c.passed));
  assert.equal(r.passed, false);
});

test('usage errors exit 2: unknown alias, unknown version, bad format, unknown option', async () => {
  const repo = makeRepo('usage');
  assert.equal(await cli(['evaluate', 'spam', '--model-repository', repo, '--against', 'nope']), 2);
  assert.equal(await cli(['evaluate', 'spam', '--model-repository', repo, '--candidate', '9']), 2);
  assert.equal(await cli(['evaluate', 'spam', '--model-repository', repo, '--format', 'xml']), 2);
  assert.equal(await cli(['evaluate', 'spam', '--model-repository', join(tmp, 'nope')]), 2);
  const r = spawnSync(
    process.execPath,
    ['bin/inferd.js', 'evaluate', 'spam', '--model-repository', repo, '--bogus'],
    {
      encoding: 'utf8',
    },
  );
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /unknown option '--bogus'/);
});

test('evaluate explains a missing model repository', async () => {
  await assert.rejects(evaluateSpam({ repository: join(tmp, 'nope') }), /config\.json/);
});
