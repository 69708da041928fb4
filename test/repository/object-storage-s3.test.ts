/**
 * Models from an S3 bucket, against a real S3-compatible server (s3rver) and the real `inferd serve`
 * process: serve, add a version while clients keep sending requests, reload through the repository
 * API, and see the new version answer with no failed request; then the failures a bucket can
 * cause (a half-uploaded version, a download cut mid-way, a missing bucket, a wrong access key),
 * each leaving what served serving.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { addModel } from '../fixtures/repository.js';
import {
  ADD_CONFIG,
  inferAdd,
  loadLoop,
  loadModel,
  repositoryIndex,
  until,
} from '../helpers/object-repository.js';
import { cutProxy, S3_KEY, startS3, type CutProxy, type S3Fixture } from '../helpers/s3.js';
import { exited, spawnServer, type Child } from '../helpers/spawn.js';

const BUCKET = 'models';

function s3Env(endpoint: string, accessKey = S3_KEY): NodeJS.ProcessEnv {
  return {
    AWS_ENDPOINT_URL: endpoint,
    AWS_ACCESS_KEY_ID: accessKey,
    AWS_SECRET_ACCESS_KEY: S3_KEY,
    AWS_REGION: 'us-east-1',
    // No shared profile of the machine's user may leak into the test.
    AWS_CONFIG_FILE: '/nonexistent',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
  };
}

describe('model repository in S3 (s3rver)', () => {
  let s3: S3Fixture;
  let proxy: CutProxy;
  let server: Child;
  let cache: string;

  before(async () => {
    s3 = await startS3([BUCKET]);
    proxy = await cutProxy(s3.endpoint);
    await s3.put(BUCKET, 'repo/add/config.json', ADD_CONFIG);
    await s3.put(BUCKET, 'repo/add/1/model.onnx', addModel(0));
    // A folder marker, as the S3 console writes them: not a file of the model.
    await s3.put(BUCKET, 'repo/add/1/', '');
    cache = mkdtempSync(join(tmpdir(), 'inferd-cache-'));
    server = await spawnServer(
      ['--model-repository', `s3://${BUCKET}/repo`, '--model-cache-dir', cache, '--auth', 'off'],
      s3Env(proxy.endpoint),
    );
  });
  after(async () => {
    server?.proc.kill('SIGKILL');
    if (server) await exited(server.proc);
    await proxy?.close();
    await s3?.close();
    rmSync(cache, { recursive: true, force: true });
  });

  it('serves the version in the bucket, from a verified copy in the cache', async () => {
    const r = await inferAdd(server.url);
    assert.deepEqual([r.status, r.version, r.sum], [200, '1', 1]);
    const [id] = readdirSync(cache);
    const snapshots = readdirSync(join(cache, id!, 'add'));
    assert.equal(snapshots.length, 1, `one copy of version 1: ${snapshots.join(', ')}`);
    assert.match(snapshots[0]!, /^1-[0-9a-f]{16}$/);
    assert.deepEqual(readdirSync(join(cache, id!, 'add', snapshots[0]!)).sort(), ['1', 'config.json']);
  });

  it('a version added to the bucket answers after a reload, with no failed request', async () => {
    const loop = loadLoop(server.url);
    try {
      await until('requests flowing', () => loop.ok >= 20);
      await s3.put(BUCKET, 'repo/add/2/model.onnx', addModel(10));
      const load = await loadModel(server.url, 'add');
      assert.equal(load.status, 200, load.body);
      const before = loop.ok;
      await until('version 2 answering', () => loop.seen.has('2') && loop.ok >= before + 20);
    } finally {
      await loop.stop();
    }
    assert.deepEqual(loop.failed, []);
    assert.equal(loop.seen.get('1'), 1);
    assert.equal(loop.seen.get('2'), 11);
    const index = await repositoryIndex(server.url);
    assert.deepEqual(
      index.map((e) => [e.name, e.version, e.state]),
      [['add', '2', 'READY']],
    );
  });

  it('a reload of an unchanged version lists the bucket again but downloads nothing', async () => {
    const downloads = proxy.downloads;
    const load = await loadModel(server.url, 'add');
    assert.equal(load.status, 200, load.body);
    // config.json is read again (it is the model's config); model.onnx comes from the cache.
    assert.equal(proxy.downloads - downloads, 1);
    const r = await inferAdd(server.url);
    assert.deepEqual([r.status, r.version, r.sum], [200, '2', 11]);
  });

  it('a half-uploaded version (no model file) is UNAVAILABLE with the object it lacks; version 2 serves on', async () => {
    await s3.put(BUCKET, 'repo/add/3/metrics.json', '{}');
    const load = await loadModel(server.url, 'add');
    assert.equal(load.status, 200, load.body);
    const index = await repositoryIndex(server.url);
    const v3 = index.find((e) => e.version === '3');
    assert.equal(v3?.state, 'UNAVAILABLE');
    assert.match(v3!.reason, /model file not found: s3:\/\/models\/repo\/add\/3\/model\.onnx/);
    assert.equal(index.find((e) => e.version === '2')?.state, 'READY');
    const r = await inferAdd(server.url);
    assert.deepEqual([r.status, r.version, r.sum], [200, '2', 11]);
  });

  it('a download cut mid-way is retried; cut every time, the version is UNAVAILABLE and never half in the cache', async () => {
    await s3.remove(BUCKET, 'repo/add/3/metrics.json');
    // Cut every attempt (1 + 3 retries): the version fails, the one that served stays.
    proxy.cut = { pathPart: '/add/4/model.onnx', times: 100 };
    await s3.put(BUCKET, 'repo/add/4/model.onnx', addModel(40));
    const failed = await loadModel(server.url, 'add');
    assert.equal(failed.status, 200, failed.body);
    assert.equal(proxy.cuts, 4, 'one attempt and three retries');
    const v4 = (await repositoryIndex(server.url)).find((e) => e.version === '4');
    assert.equal(v4?.state, 'UNAVAILABLE');
    assert.match(
      v4!.reason,
      /downloading s3:\/\/models\/repo\/add\/4\/model\.onnx .*network error ECONNRESET.*\(after 4 attempts\)/,
    );
    assert.deepEqual([(await inferAdd(server.url)).version], ['2']);
    const [id] = readdirSync(cache);
    assert.ok(!readdirSync(join(cache, id!, 'add')).some((d) => d.startsWith('4-') || d.startsWith('.tmp')));

    // Cut once: the retry completes the download.
    proxy.cut = { pathPart: '/add/4/model.onnx', times: 1 };
    proxy.cuts = 0;
    const ok = await loadModel(server.url, 'add');
    assert.equal(ok.status, 200, ok.body);
    assert.equal(proxy.cuts, 1);
    const r = await inferAdd(server.url);
    assert.deepEqual([r.status, r.version, r.sum], [200, '4', 41]);
  });

  it('the bucket gone: a reload answers 503 repository_unavailable naming it; the loaded version serves on', async () => {
    for (const key of [
      'repo/add/config.json',
      'repo/add/1/',
      'repo/add/1/model.onnx',
      'repo/add/2/model.onnx',
      'repo/add/4/model.onnx',
    ]) {
      await s3.remove(BUCKET, key);
    }
    await s3.removeBucket(BUCKET);
    const load = await loadModel(server.url, 'add');
    assert.equal(load.status, 503, load.body);
    const body = JSON.parse(load.body) as { code: string; error: string };
    assert.equal(body.code, 'repository_unavailable');
    assert.match(body.error, /bucket 'models' does not exist/);
    const r = await inferAdd(server.url);
    assert.deepEqual([r.status, r.version], [200, '4']);
  });
});

describe('S3 repository that cannot be read at start-up', () => {
  let s3: S3Fixture;
  before(async () => {
    s3 = await startS3([BUCKET]);
    await s3.put(BUCKET, 'repo/add/1/model.onnx', addModel(0));
  });
  after(() => s3?.close());

  const startFails = async (repository: string, env: NodeJS.ProcessEnv): Promise<string> => {
    const cache = mkdtempSync(join(tmpdir(), 'inferd-cache-'));
    try {
      await spawnServer(['--model-repository', repository, '--model-cache-dir', cache, '--auth', 'off'], env);
    } catch (err) {
      return (err as Error).message;
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
    assert.fail('the server started');
  };

  it('a missing bucket: the server exits, naming the bucket', async () => {
    const msg = await startFails('s3://no-such-bucket/repo', s3Env(s3.endpoint));
    assert.match(msg, /exited with 1/);
    assert.match(msg, /listing s3:\/\/no-such-bucket\/repo\/: bucket 'no-such-bucket' does not exist/);
  });

  it('an access key the store does not know: the server exits, saying access is denied and what to check', async () => {
    // s3rver checks the access key id (InvalidAccessKeyId) but not V4 signatures: a wrong secret passes there.
    const msg = await startFails(`s3://${BUCKET}/repo`, s3Env(s3.endpoint, 'WRONGKEY'));
    assert.match(msg, /access denied \(InvalidAccessKeyId\); check the AWS credentials/);
  });

  it('an unreachable endpoint: retried, then the server exits with the network error', async () => {
    const msg = await startFails(`s3://${BUCKET}/repo`, {
      ...s3Env('http://127.0.0.1:9'),
      INFERD_OBJECT_STORE_RETRIES: '1',
    });
    assert.match(msg, /network error ECONNREFUSED.*after 2 attempts/);
  });
});
