/**
 * ONNX Runtime's telemetry stays off unless the user asks for it: a server that loaded models
 * leaves nothing under $HOME/.cache/Microsoft (onnxruntime 1.30 wrote a device ID and a database
 * there on every start).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeFixtureRepository } from '../fixtures/repository.js';
import { exited, spawnServer, type Child } from '../helpers/spawn.js';

describe('ONNX Runtime telemetry', () => {
  let home: string;
  let repo: string;
  let child: Child;
  before(async () => {
    home = mkdtempSync(join(tmpdir(), 'inferd-home-'));
    repo = makeFixtureRepository();
    const env: NodeJS.ProcessEnv = { HOME: home };
    delete process.env.ORT_DISABLE_TELEMETRY;
    child = await spawnServer(['--model-repository', repo, '--auth', 'off'], env);
  });
  after(async () => {
    child.proc.kill('SIGTERM');
    await exited(child.proc);
    rmSync(home, { recursive: true, force: true });
    rmSync(repo, { recursive: true, force: true });
  });

  it('is off by default: nothing written under ~/.cache/Microsoft after models loaded', async () => {
    const res = await fetch(child.url + '/v2/models/add/ready');
    assert.equal(res.status, 200);
    assert.equal(existsSync(join(home, '.cache', 'Microsoft')), false);
  });
});
