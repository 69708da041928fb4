/**
 * One conformance suite for every repository source: the same repository as a local
 * folder, in a real S3-compatible server (s3rver) and behind GCS's JSON API (the official client
 * against test/helpers/gcs-server.ts) must read the same: model names, versions, config, the
 * files of a version, and reasons without local paths.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InferdError } from '../../src/errors.js';
import type { RepositorySource } from '../../src/repository/repository-source.js';
import { GcsBucket } from '../../src/repository/source/gcs.js';
import { LocalSource } from '../../src/repository/source/local.js';
import { ObjectStoreSource, type ObjectStoreLimits } from '../../src/repository/source/object-store.js';
import { S3Bucket } from '../../src/repository/source/s3.js';
import { addModel } from '../fixtures/repository.js';
import { startFakeGcs, type FakeGcs } from '../helpers/gcs-server.js';
import { cutProxy, S3_KEY, startS3, type S3Fixture } from '../helpers/s3.js';

/** The repository every source holds, key → content. */
const FILES: Record<string, Uint8Array | string> = {
  'multi/config.json': JSON.stringify({ max_batch_size: 4, version_policy: { all: {} } }),
  'multi/labels.txt': 'spam\nham\n',
  'multi/1/model.onnx': addModel(1),
  'multi/2/model.onnx': addModel(2),
  'multi/2/metrics.json': '{"accuracy": 1}',
  'multi/10/model.onnx': addModel(10),
  'add/1/model.onnx': addModel(0),
  'badcfg/config.json': '{ not json',
  'badcfg/1/model.onnx': addModel(0),
  '.hidden/1/model.onnx': addModel(0),
  'README.md': 'a file beside the models, not a model',
};

/**
 * Where a source's store departs from the real service, each with its reason (as hono's shared
 * router suite lists what each router skips). inferd lists models with a delimiter, as the S3 and
 * GCS APIs define it and as Triton does.
 */
const DEVIATIONS: Record<string, { unlisted: string[]; why: string }> = {
  s3: {
    unlisted: ['add'],
    why: "s3rver's delimiter listing omits a folder that holds only sub-folders (its file walk prunes them before it sees their keys); S3, MinIO and GCS list it",
  },
};

const LIMITS: ObjectStoreLimits = {
  maxObjects: 100,
  maxModelBytes: 1024 * 1024,
  retry: { attempts: 2, baseDelayMs: 10, timeoutMs: 5000 },
};

function writeTree(root: string): void {
  for (const [key, body] of Object.entries(FILES)) {
    const file = join(root, ...key.split('/'));
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(file, body);
  }
}

describe('repository sources: one conformance suite', () => {
  const work = mkdtempSync(join(tmpdir(), 'inferd-sources-'));
  let s3: S3Fixture;
  let gcs: FakeGcs;
  const sources: Array<[string, () => RepositorySource]> = [];

  before(async () => {
    writeTree(join(work, 'local'));
    s3 = await startS3(['models']);
    for (const [key, body] of Object.entries(FILES)) await s3.put('models', `repo/${key}`, body);
    writeTree(join(work, 'gcs', 'models', 'repo'));
    gcs = await startFakeGcs(join(work, 'gcs'));
    process.env.AWS_ACCESS_KEY_ID = S3_KEY;
    process.env.AWS_SECRET_ACCESS_KEY = S3_KEY;
    process.env.STORAGE_EMULATOR_HOST = gcs.endpoint;
    sources.push(
      ['local', () => new LocalSource(join(work, 'local'))],
      [
        's3',
        () =>
          new ObjectStoreSource(
            new S3Bucket({ bucket: 'models', endpoint: s3.endpoint, timeoutMs: 5000 }),
            'repo/',
            join(work, 'cache-s3'),
            LIMITS,
          ),
      ],
      [
        'gcs',
        () =>
          new ObjectStoreSource(
            new GcsBucket({ bucket: 'models', timeoutMs: 5000 }),
            'repo',
            join(work, 'cache-gcs'),
            LIMITS,
          ),
      ],
    );
  });
  after(async () => {
    await s3?.close();
    await gcs?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('lists the same models: folders only, hidden ones skipped', async (t) => {
    for (const [name, make] of sources) {
      const dev = DEVIATIONS[name];
      if (dev) t.diagnostic(`${name}: ${dev.unlisted.join(', ')} not expected: ${dev.why}`);
      const expected = ['add', 'badcfg', 'multi'].filter((m) => !dev?.unlisted.includes(m));
      assert.deepEqual(await make().listModelNames(), expected, name);
    }
  });

  it('knows which models exist; names that are not folder names never do', async () => {
    for (const [name, make] of sources) {
      const src = make();
      assert.equal(await src.modelExists('multi'), true, name);
      for (const other of ['nope', '..', '../repo', '.hidden', 'multi/1']) {
        assert.equal(await src.modelExists(other), false, `${name}: ${other}`);
      }
    }
  });

  it("reads a model's config and its versions in numeric order", async () => {
    for (const [name, make] of sources) {
      const snap = await make().openModel('multi', []);
      assert.deepEqual(snap.versions, [1, 2, 10], name);
      assert.equal(snap.config.max_batch_size, 4, name);
      assert.deepEqual(snap.config.version_policy, { all: {} }, name);
    }
  });

  it("fetches a version's files, with the model's own files one folder up", async () => {
    for (const [name, make] of sources) {
      const dir = await (await make().openModel('multi', [])).fetchVersion(2);
      assert.deepEqual(
        readFileSync(join(dir, 'model.onnx')),
        Buffer.from(FILES['multi/2/model.onnx']!),
        name,
      );
      assert.equal(readFileSync(join(dir, 'metrics.json'), 'utf8'), FILES['multi/2/metrics.json'], name);
      assert.equal(readFileSync(join(dir, '..', 'labels.txt'), 'utf8'), FILES['multi/labels.txt'], name);
      assert.equal(existsSync(join(dir, '..', '1')), name === 'local', `${name}: only version 2 fetched`);
    }
  });

  it('a bad config.json fails the model with invalid_config, naming it', async () => {
    for (const [name, make] of sources) {
      await assert.rejects(
        make().openModel('badcfg', []),
        (err: unknown) =>
          err instanceof InferdError &&
          err.code === 'invalid_config' &&
          /model 'badcfg'.*not valid JSON/.test(err.message),
        name,
      );
    }
  });

  it('reasons name files as the repository does, never by a local path', async () => {
    for (const [name, make] of sources) {
      const src = make();
      const dir = await (await src.openModel('multi', [])).fetchVersion(10);
      const text = src.publicText(`model file not found: ${join(dir, 'model.onnx')}`);
      assert.ok(!text.includes(work), `${name}: ${text}`);
      const expected = name === 'local' ? 'multi/10/model.onnx' : `${src.location}/multi/10/model.onnx`;
      assert.equal(text, `model file not found: ${expected}`, name);
    }
  });
});

describe('object store downloads that stall', () => {
  it('a download that stops sending is aborted after the timeout, retried, then fails naming the setting', async () => {
    const work = mkdtempSync(join(tmpdir(), 'inferd-stall-'));
    const s3 = await startS3(['models']);
    const proxy = await cutProxy(s3.endpoint);
    try {
      process.env.AWS_ACCESS_KEY_ID = S3_KEY;
      process.env.AWS_SECRET_ACCESS_KEY = S3_KEY;
      await s3.put('models', 'repo/add/1/model.onnx', addModel(0));
      const src = new ObjectStoreSource(
        new S3Bucket({ bucket: 'models', endpoint: proxy.endpoint, timeoutMs: 5000 }),
        'repo',
        join(work, 'cache'),
        { ...LIMITS, retry: { attempts: 2, baseDelayMs: 10, timeoutMs: 400 } },
      );
      const snap = await src.openModel('add', []);
      proxy.cut = { pathPart: '/add/1/model.onnx', times: 100, stall: true };
      const started = performance.now();
      await assert.rejects(snap.fetchVersion(1), (err: unknown) => {
        assert.ok(err instanceof InferdError && err.code === 'repository_unavailable', String(err));
        assert.match(
          err.message,
          /model\.onnx: no data for 400 ms \(--object-store-timeout-ms\) \(after 2 attempts\)/,
        );
        return true;
      });
      const ms = performance.now() - started;
      assert.equal(proxy.cuts, 2);
      assert.ok(ms >= 800 && ms < 4000, `two stalls of 400 ms took ${Math.round(ms)} ms`);
      proxy.cut = undefined;
      const dir = await snap.fetchVersion(1);
      assert.deepEqual(readFileSync(join(dir, 'model.onnx')), Buffer.from(addModel(0)));
    } finally {
      await proxy.close();
      await s3.close();
      rmSync(work, { recursive: true, force: true });
    }
  });
});
