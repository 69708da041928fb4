/**
 * Models from a Google Cloud Storage bucket: the real `inferd serve` process and the official
 * client (@google-cloud/storage), pointed with STORAGE_EMULATOR_HOST at a local server of GCS's
 * JSON API (test/helpers/gcs-server.ts: no GCS emulator is published on npm or in Debian). Serve,
 * add a version while clients keep sending requests, reload, and see it answer with no failed
 * request; a corrupt download and a missing bucket leave what served serving.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { addModel } from '../fixtures/repository.js';
import { startFakeGcs, type FakeGcs } from '../helpers/gcs-server.js';
import {
  ADD_CONFIG,
  inferAdd,
  loadLoop,
  loadModel,
  repositoryIndex,
  until,
} from '../helpers/object-repository.js';
import { exited, spawnServer, type Child } from '../helpers/spawn.js';

describe('model repository in GCS (official client, local JSON API server)', () => {
  let root: string;
  let gcs: FakeGcs;
  let server: Child;
  const put = (key: string, body: Uint8Array | string): void => {
    const file = join(root, 'models', ...key.split('/'));
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(file, body);
  };

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'inferd-gcs-'));
    put('repo/add/config.json', ADD_CONFIG);
    put('repo/add/1/model.onnx', addModel(0));
    put('repo/README.md', 'not a model');
    gcs = await startFakeGcs(root);
    // No --model-repository: Vertex AI names the model artifacts in AIP_STORAGE_URI.
    // STORAGE_EMULATOR_HOST is the client's own switch to an emulator (no credentials then).
    server = await spawnServer(['--model-cache-dir', join(root, 'cache'), '--auth', 'off'], {
      AIP_STORAGE_URI: 'gs://models/repo',
      STORAGE_EMULATOR_HOST: gcs.endpoint,
      INFERD_OBJECT_STORE_RETRIES: '1',
    });
  });
  after(async () => {
    server?.proc.kill('SIGKILL');
    if (server) await exited(server.proc);
    await gcs?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('serves the version in the bucket', async () => {
    const r = await inferAdd(server.url);
    assert.deepEqual([r.status, r.version, r.sum], [200, '1', 1]);
    assert.ok(
      gcs.requests.some(
        (q) => q.startsWith('/b/models/o/repo%2Fadd%2F1%2Fmodel.onnx?') && q.includes('alt=media'),
      ),
      'the model was downloaded through objects.get?alt=media',
    );
  });

  it('a version added to the bucket answers after a reload, with no failed request; listings are paged', async () => {
    const loop = loadLoop(server.url);
    try {
      await until('requests flowing', () => loop.ok >= 20);
      put('repo/add/2/model.onnx', addModel(10));
      gcs.requests.length = 0;
      const load = await loadModel(server.url, 'add');
      assert.equal(load.status, 200, load.body);
      const before = loop.ok;
      await until('version 2 answering', () => loop.seen.has('2') && loop.ok >= before + 20);
    } finally {
      await loop.stop();
    }
    assert.deepEqual(loop.failed, []);
    assert.deepEqual([loop.seen.get('1'), loop.seen.get('2')], [1, 11]);
    // Three objects in the model's folder, pages of two: the second page was asked for.
    assert.ok(
      gcs.requests.some((q) => q.includes('pageToken=2')),
      gcs.requests.join('\n'),
    );
  });

  it('a download that does not match its MD5 is retried, then the version is UNAVAILABLE; version 2 serves on', async () => {
    put('repo/add/3/model.onnx', addModel(30));
    gcs.corrupt.add('repo/add/3/model.onnx');
    const load = await loadModel(server.url, 'add');
    assert.equal(load.status, 200, load.body);
    const v3 = (await repositoryIndex(server.url)).find((e) => e.version === '3');
    assert.equal(v3?.state, 'UNAVAILABLE');
    assert.match(
      v3!.reason,
      /gs:\/\/models\/repo\/add\/3\/model\.onnx: the content does not match its MD5.*after 2 attempts/,
    );
    const r = await inferAdd(server.url);
    assert.deepEqual([r.status, r.version], [200, '2']);

    gcs.corrupt.clear();
    assert.equal((await loadModel(server.url, 'add')).status, 200);
    const r3 = await inferAdd(server.url);
    assert.deepEqual([r3.status, r3.version, r3.sum], [200, '3', 31]);
  });

  it('the bucket gone: a reload answers 503 repository_unavailable naming it; the loaded version serves on', async () => {
    renameSync(join(root, 'models'), join(root, 'moved'));
    const load = await loadModel(server.url, 'add');
    assert.equal(load.status, 503, load.body);
    const body = JSON.parse(load.body) as { code: string; error: string };
    assert.equal(body.code, 'repository_unavailable');
    assert.match(body.error, /bucket 'models' does not exist/);
    const r = await inferAdd(server.url);
    assert.deepEqual([r.status, r.version], [200, '3']);
  });
});
