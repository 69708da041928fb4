/**
 * The evaluation gate: `evaluate` passes on the committed model and really fails (non-zero exit
 * through the CLI command) on a deliberately degraded model, both by the floors and by the
 * regression-vs-production rule.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import onnxProto from 'onnx-proto';
import { addTrainCommands } from '../../src/cli/commands/train.js';
import { evaluateSpam, formatReport } from '../../src/training/spam/evaluate.js';
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

/** Repository with production v1 = committed model and v2 = degraded; `floors` override config's. */
function makeRepo(name: string, floors?: Record<string, number>): string {
  const repo = join(tmp, name);
  cpSync(join(MODELS, 'spam'), join(repo, 'spam'), { recursive: true });
  cpSync(join(repo, 'spam', '1'), join(repo, 'spam', '2'), { recursive: true });
  writeFileSync(join(repo, 'spam', '2', 'model.onnx'), degradedModel());
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

test('the committed model passes its gate', async () => {
  const r = await evaluateSpam({ repository: MODELS });
  assert.equal(r.version, '1');
  assert.ok(r.passed, formatReport(r));
  assert.ok(r.metrics.n > 500);
  assert.equal(r.production, undefined, 'evaluated version is production: no comparison');
});

test('a degraded model fails the floors, and the CLI exits non-zero', async () => {
  const repo = makeRepo('floors');
  const r = await evaluateSpam({ repository: repo });
  assert.equal(r.version, '2', 'defaults to the highest version');
  assert.equal(r.passed, false);
  assert.ok(r.checks.some((c) => c.name.startsWith('f1 >= floor') && !c.passed));
  assert.match(formatReport(r), /GATE FAILED/);
  assert.equal(await cli(['evaluate', 'spam', '--model-repository', repo]), 1);
  assert.equal(await cli(['evaluate', 'spam', '--model-repository', repo, '--version', '1']), 0);
});

test('with floors at zero, a degraded model still fails on regression vs production', async () => {
  const repo = makeRepo('regression', { f1: 0, precision: 0, roc_auc: 0 });
  const r = await evaluateSpam({ repository: repo });
  assert.equal(r.productionVersion, '1');
  assert.ok(r.production && r.production.f1 > 0.9);
  assert.ok(r.checks.filter((c) => c.name.includes('floor')).every((c) => c.passed));
  assert.ok(r.checks.some((c) => c.name.includes('production') && !c.passed));
  assert.equal(r.passed, false);
});

test('evaluate explains a missing model repository', async () => {
  await assert.rejects(evaluateSpam({ repository: join(tmp, 'nope') }), /config\.json/);
});
