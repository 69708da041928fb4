/**
 * The platforms' environment variables as the settings read them (src/config.ts): the port from
 * AIP_HTTP_PORT, SAGEMAKER_BIND_TO_PORT or PORT below INFERD_HTTP_PORT and the flag; the Vertex
 * routes from AIP_HEALTH_ROUTE and AIP_PREDICT_ROUTE; the repository from SageMaker's model folder
 * only when none is given and the folder holds something.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadSettings, SettingsError } from '../../src/config.js';
import { modelNameOfTarget } from '../../src/protocol/platforms/target-model.js';

describe('platform settings', () => {
  it('the HTTP port: flag > INFERD_HTTP_PORT > AIP_HTTP_PORT > SAGEMAKER_BIND_TO_PORT > PORT > 8080', () => {
    const missing = { INFERD_SAGEMAKER_MODEL_DIR: '/nonexistent/inferd-test' };
    assert.equal(loadSettings({}, { ...missing }).httpPort, 8080);
    assert.equal(loadSettings({}, { ...missing, PORT: '9001' }).httpPort, 9001);
    assert.equal(
      loadSettings({}, { ...missing, PORT: '9001', SAGEMAKER_BIND_TO_PORT: '9002' }).httpPort,
      9002,
    );
    const all = { ...missing, PORT: '9001', SAGEMAKER_BIND_TO_PORT: '9002', AIP_HTTP_PORT: '9003' };
    assert.equal(loadSettings({}, all).httpPort, 9003);
    assert.equal(loadSettings({}, { ...all, INFERD_HTTP_PORT: '9004' }).httpPort, 9004);
    assert.equal(loadSettings({ httpPort: 9005 }, { ...all, INFERD_HTTP_PORT: '9004' }).httpPort, 9005);
    assert.throws(() => loadSettings({}, { ...missing, SAGEMAKER_BIND_TO_PORT: 'eighty' }), SettingsError);
  });

  it('the Vertex routes come from AIP_HEALTH_ROUTE and AIP_PREDICT_ROUTE, and must be paths', () => {
    const s = loadSettings(
      {},
      { AIP_HEALTH_ROUTE: '/health', AIP_PREDICT_ROUTE: '/v1/endpoints/1/deployedModels/2:predict' },
    );
    assert.equal(s.vertexHealthRoute, '/health');
    assert.equal(s.vertexPredictRoute, '/v1/endpoints/1/deployedModels/2:predict');
    assert.equal(loadSettings({}, {}).vertexPredictRoute, undefined);
    assert.throws(
      () => loadSettings({}, { AIP_PREDICT_ROUTE: 'predict' }),
      /vertexPredictRoute.*absolute path/,
    );
    assert.throws(() => loadSettings({}, { AIP_HEALTH_ROUTE: '/health?x=1' }), /vertexHealthRoute/);
  });

  it("the repository: given > SageMaker's model folder when it holds something > ./models", () => {
    const dir = mkdtempSync(join(tmpdir(), 'inferd-opt-ml-model-'));
    try {
      const env = { INFERD_SAGEMAKER_MODEL_DIR: dir };
      assert.equal(loadSettings({}, env).modelRepository, './models', 'an empty folder is not a repository');
      mkdirSync(join(dir, 'spam'));
      assert.equal(loadSettings({}, env).modelRepository, dir);
      assert.equal(
        loadSettings({}, { ...env, INFERD_MODEL_REPOSITORY: '/srv/models' }).modelRepository,
        '/srv/models',
      );
      assert.equal(loadSettings({ modelRepository: 'mine' }, env).modelRepository, 'mine');
      assert.equal(loadSettings({}, {}).sagemakerModelDir, '/opt/ml/model');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('X-Amzn-SageMaker-Target-Model → model name: the last path segment without an archive suffix', () => {
    const cases: Array<[string, string | undefined]> = [
      ['spam.tar.gz', 'spam'],
      ['spam.tgz', 'spam'],
      ['spam.TAR.GZ', 'spam'],
      ['spam/', 'spam'],
      ['./spam', 'spam'],
      ['team-a/ocr.tar.gz', 'ocr'],
      ['spam', 'spam'],
      ['v1.2.tar.gz', 'v1.2'],
      ['/', undefined],
      ['.tar.gz', undefined],
      ['a/..', undefined],
      ['', undefined],
    ];
    for (const [value, name] of cases) assert.equal(modelNameOfTarget(value), name, value);
  });
});
