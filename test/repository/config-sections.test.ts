/**
 * Config sections owned outside the repository (issue 22): the ONNX Runtime backend's
 * `onnxruntime` and the /v1 API's `signature` are validated when the model's config is read, so a
 * bad section fails that model's load with the field named, and the other models serve.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../src/server.js';
import { addModel, makeFixtureRepository, writeModel } from '../fixtures/repository.js';
import { adminHeaders, startTestServer } from '../helpers/server.js';

describe('config sections validated by their owners when the config is read', () => {
  let server: RunningServer;
  let repo: string;
  before(async () => {
    repo = makeFixtureRepository();
    writeModel(repo, 'bad_ort', 1, addModel(), { onnxruntime: { execution_provider: 'tpu' } });
    writeModel(repo, 'bad_sig', 1, addModel(), { signature: { inputs: [] } });
    server = await startTestServer(repo);
  });
  after(async () => {
    await server.close();
    rmSync(repo, { recursive: true, force: true });
  });

  it('names the bad field of each section; the other models serve', async () => {
    const res = await fetch(server.httpUrl + '/v2/repository/index', {
      method: 'POST',
      headers: adminHeaders(),
    });
    const index = (await res.json()) as Array<{ name: string; state?: string; reason?: string }>;
    const entry = (name: string) => index.find((e) => e.name === name);
    assert.notEqual(entry('bad_ort')?.state, 'READY');
    assert.match(entry('bad_ort')?.reason ?? '', /onnxruntime\.execution_provider/);
    assert.notEqual(entry('bad_sig')?.state, 'READY');
    assert.match(entry('bad_sig')?.reason ?? '', /signature\.inputs/);
    const ready = await fetch(server.httpUrl + '/v2/models/add/ready');
    assert.equal(ready.status, 200);
  });
});
