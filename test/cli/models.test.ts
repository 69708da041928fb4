/**
 * `inferd models list|show|alias` through the real CLI on a copy of the shipped repository: the
 * committed spam version's lineage verifies, a tampered copy shows MODIFIED, and an alias move is
 * printed and kept in the history that `show` prints.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

const tmp = mkdtempSync(join(tmpdir(), 'inferd-models-cli-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const repo = join(tmp, 'models');
cpSync('models/spam', join(repo, 'spam'), { recursive: true });
cpSync(join(repo, 'spam', '1'), join(repo, 'spam', '2'), { recursive: true });

const cli = (...args: string[]) =>
  spawnSync(process.execPath, ['bin/inferd.js', ...args], { encoding: 'utf8' });

test('models list: the shipped version verifies against its lineage; a tampered copy does not', () => {
  appendFileSync(join(repo, 'spam', '2', 'model.onnx'), Buffer.from([0]));
  const r = cli('models', 'list', '--model-repository', repo);
  assert.equal(r.status, 0, r.stderr);
  const rows = r.stdout.trim().split('\n');
  assert.match(rows[0] ?? '', /^model\s+version\s+aliases\s+integrity\s+test f1/);
  assert.match(rows.find((l) => /^spam\s+1\s/.test(l)) ?? '', /production\s+verified\s+0\.98/);
  assert.match(rows.find((l) => /^spam\s+2\s/.test(l)) ?? '', /-\s+MODIFIED/);
});

test('models alias then models show: the move and its history', () => {
  const moved = cli(
    'models',
    'alias',
    'spam',
    'staging',
    '1',
    '--reason',
    'smoke test',
    '--by',
    'ci',
    '--model-repository',
    repo,
  );
  assert.equal(moved.status, 0, moved.stderr);
  assert.equal(moved.stdout, 'spam: staging - -> 1\n');
  const shown = cli('models', 'show', 'spam', '--model-repository', repo, '--version', '1');
  assert.equal(shown.status, 0, shown.stderr);
  assert.match(shown.stdout, /version 1 {2}\[verified\] {2}aliases: production, staging/);
  assert.match(shown.stdout, /artifact {5}model\.onnx sha256:[0-9a-f]{64}/);
  assert.match(shown.stdout, /parameters {3}\{"seed":42,"split_seed":42/);
  assert.match(shown.stdout, /staging: - -> 1 {2}by ci: smoke test/);
  const json = JSON.parse(cli('models', 'show', 'spam', '--model-repository', repo, '--json').stdout) as {
    versions: Array<{ version: string; integrity: string }>;
    alias_history: unknown[];
  };
  assert.deepEqual(
    json.versions.map((v) => [v.version, v.integrity]),
    [
      ['1', 'verified'],
      ['2', 'MODIFIED'],
    ],
  );
  assert.equal(json.alias_history.length, 1);
  // Usage errors exit 2 with the reason.
  const bad = cli('models', 'alias', 'spam', 'staging', '9', '--reason', 'x', '--model-repository', repo);
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /no version '9'/);
});
