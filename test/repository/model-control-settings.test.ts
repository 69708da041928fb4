/** --model-control-mode / --load-model resolution (src/config.ts resolveModelControl). */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { it } from 'node:test';
import { loadSettings, SettingsError } from '../../src/config.js';

it('no mode: explicit with every model loaded (what inferd always did)', () => {
  const s = loadSettings({}, {});
  assert.equal(s.modelControlMode, 'explicit');
  assert.deepEqual(s.loadModel, ['*']);
});

it('explicit without --load-model loads nothing; the env form is comma-separated', () => {
  assert.deepEqual(loadSettings({ modelControlMode: 'explicit' }, {}).loadModel, []);
  assert.deepEqual(
    loadSettings({}, { INFERD_MODEL_CONTROL_MODE: 'explicit', INFERD_LOAD_MODEL: 'a, b' }).loadModel,
    ['a', 'b'],
  );
});

it('--load-model belongs to explicit mode', () => {
  assert.throws(() => loadSettings({ modelControlMode: 'poll', loadModel: ['a'] }, {}), SettingsError);
  assert.throws(() => loadSettings({ modelControlMode: 'sometimes' }, {}), /modelControlMode/);
});

it('the flag repeats on the command line', () => {
  const r = spawnSync(
    process.execPath,
    ['bin/inferd.js', 'serve', '--model-control-mode', 'none', '--load-model', 'a', '--load-model', 'b'],
    { encoding: 'utf8', timeout: 60_000 },
  );
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /loadModel \(flag --load-model.*only with --model-control-mode explicit/);
});
