/** Settings of object storage repositories: platform variables, precedence, and bad URIs. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadSettings, SettingsError } from '../../src/config.js';
import { InferdError } from '../../src/errors.js';
import { LocalSource } from '../../src/repository/source/local.js';
import { openRepository } from '../../src/repository/source/open.js';

describe('object storage settings', () => {
  it('AIP_STORAGE_URI is the repository when none is given; a flag or INFERD_MODEL_REPOSITORY wins', () => {
    assert.equal(loadSettings({}, { AIP_STORAGE_URI: 'gs://b/m' }).modelRepository, 'gs://b/m');
    assert.equal(
      loadSettings({}, { AIP_STORAGE_URI: 'gs://b/m', INFERD_MODEL_REPOSITORY: '/srv/models' })
        .modelRepository,
      '/srv/models',
    );
    assert.equal(
      loadSettings({ modelRepository: 's3://x/y' }, { AIP_STORAGE_URI: 'gs://b/m' }).modelRepository,
      's3://x/y',
    );
    assert.equal(loadSettings({}, {}).modelRepository, './models');
  });

  it('the S3 endpoint: --s3-endpoint, else AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL', () => {
    const env = { AWS_ENDPOINT_URL: 'http://a:1', AWS_ENDPOINT_URL_S3: 'http://s3:2' };
    assert.equal(loadSettings({}, env).s3Endpoint, 'http://s3:2');
    assert.equal(loadSettings({}, { AWS_ENDPOINT_URL: 'http://a:1' }).s3Endpoint, 'http://a:1');
    assert.equal(loadSettings({ s3Endpoint: 'https://minio:9000' }, env).s3Endpoint, 'https://minio:9000');
    assert.equal(loadSettings({}, {}).s3Endpoint, undefined);
    assert.throws(() => loadSettings({ s3Endpoint: 'minio:9000' }, {}), SettingsError);
  });

  it('limits have defaults and ranges', () => {
    const s = loadSettings({}, {});
    assert.deepEqual(
      [
        s.maxRepositoryObjects,
        s.maxModelBytes,
        s.objectStoreTimeoutMs,
        s.objectStoreRetries,
        s.modelCacheDir,
      ],
      [10_000, 8 * 1024 ** 3, 30_000, 3, undefined],
    );
    assert.throws(() => loadSettings({ objectStoreRetries: 21 }, {}), /objectStoreRetries/);
    assert.throws(() => loadSettings({ maxRepositoryObjects: 0 }, {}), /maxRepositoryObjects/);
  });

  it('a folder stays a local source; a URI with no bucket name is refused naming the form', async () => {
    const s = loadSettings({ modelRepository: 'models' }, {});
    assert.ok((await openRepository(s)) instanceof LocalSource);
    for (const uri of ['s3://', 's3:///prefix', 'gs://A_B/x']) {
      await assert.rejects(
        openRepository({ ...s, modelRepository: uri }),
        (err: unknown) =>
          err instanceof InferdError && err.code === 'invalid_config' && /bucket\/prefix/.test(err.message),
      );
    }
  });
});
