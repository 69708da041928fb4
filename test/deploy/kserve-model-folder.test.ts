/**
 * The command line of deploy/kserve/cluster-serving-runtime.yaml, run for real over the layouts
 * KServe's storage initializer writes into /mnt/models (the objects under the storageUri copied
 * straight into the folder):
 * - storageUri naming one model → /mnt/models/config.json, /mnt/models/1/model.onnx: served under
 *   the InferenceService's name ({{.Name}}), the name KServe's clients call;
 * - storageUri naming a repository root → /mnt/models/<model>/…: served under the folder names.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadSettings } from '../../src/config.js';
import { openRepository } from '../../src/repository/source/open.js';
import { addModel, makeFixtureRepository } from '../fixtures/repository.js';
import { startTestServer } from '../helpers/server.js';
import { freePort } from '../helpers/spawn.js';
import { postJson, spawnPlatformServer, type PlatformServer } from '../platforms/helpers.js';
import {
  kserveContainer,
  loadYaml,
  type ClusterServingRuntime,
  type InferenceService,
} from './kserve-manifests.js';

const ADD_REQUEST = {
  inputs: [
    { name: 'a', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] },
    { name: 'b', shape: [1, 4], datatype: 'FP32', data: [10, 20, 30, 40] },
  ],
};

type Oip = { model_name: string; model_version: string; outputs: { name: string; data: number[] }[] };

/** One model's folder as KServe lays out a storageUri naming it; its config names it otherwise. */
function singleModelFolder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'inferd-mnt-models-'));
  mkdirSync(join(dir, '3'));
  writeFileSync(join(dir, '3', 'model.onnx'), addModel());
  // Written for the repository layout (models/add/config.json): the served name is the ISVC's.
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ name: 'add', max_batch_size: 8 }));
  return dir;
}

describe('KServe /mnt/models: the runtime command line over one model folder', () => {
  const runtime = loadYaml<ClusterServingRuntime>('cluster-serving-runtime.yaml');
  // Named as no folder is, so that the name can only have come from {{.Name}}.
  const isvc = { ...loadYaml<InferenceService>('spam-knative-grpc.yaml') };
  isvc.metadata = { ...isvc.metadata, name: 'adder-isvc' };
  let mnt: string;
  let server: PlatformServer;

  before(async () => {
    mnt = singleModelFolder();
    const { args, env } = kserveContainer(runtime, isvc);
    assert.ok(args.includes('--model-name=adder-isvc'), 'KServe fills {{.Name}}');
    const port = await freePort();
    // The runtime's own variables, but a test's data dir (the pod's is an emptyDir) and port.
    const { INFERD_DATA_DIR: _dataDir, ...runtimeEnv } = env;
    server = await spawnPlatformServer(
      args.map((a) => a.replace('/mnt/models', mnt)),
      { ...runtimeEnv, INFERD_HTTP_PORT: String(port) },
      port,
      '/v2/health/ready',
    );
  });
  after(async () => {
    await server?.stop();
    if (mnt) rmSync(mnt, { recursive: true, force: true });
  });

  it('serves the folder as one model named as the InferenceService, at /v2/models/{name}/infer', async () => {
    const res = await postJson(`${server.url}/v2/models/adder-isvc/infer`, ADD_REQUEST);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const body = res.body as unknown as Oip;
    assert.equal(body.model_name, 'adder-isvc');
    assert.equal(body.model_version, '3');
    assert.deepEqual(body.outputs.find((o) => o.name === 'sum')?.data, [11, 22, 33, 44]);
    assert.equal((await fetch(`${server.url}/v2/models/adder-isvc/ready`)).status, 200);
  });

  it('knows no other model: not the config name, not the version folder', async () => {
    for (const name of ['add', '3']) {
      assert.equal((await fetch(`${server.url}/v2/models/${name}`)).status, 404, name);
    }
  });
});

describe('KServe /mnt/models: a repository root and the --model-name setting', () => {
  let repo: string;
  before(() => {
    repo = makeFixtureRepository();
  });
  after(() => rmSync(repo, { recursive: true, force: true }));

  it('a repository of model folders is served as it is: --model-name renames nothing', async () => {
    const server = await startTestServer(repo, { modelName: 'add' });
    try {
      for (const name of ['add', 'identity', 'upper']) {
        assert.equal((await fetch(`${server.httpUrl}/v2/models/${name}/ready`)).status, 200, name);
      }
      const res = await postJson(`${server.httpUrl}/v2/models/add/infer`, ADD_REQUEST);
      assert.equal(res.status, 200);
    } finally {
      await server.close();
    }
  });

  it('without --model-name a model folder is read as a repository (no model named after its files)', async () => {
    const mnt = singleModelFolder();
    try {
      const source = await openRepository(loadSettings({ modelRepository: mnt }, {}));
      // The version folder would be taken for a model: this is why the runtime passes {{.Name}}.
      assert.deepEqual(await source.listModelNames(), ['3']);
      const named = await openRepository(loadSettings({ modelRepository: mnt, modelName: 'm' }, {}));
      assert.deepEqual(await named.listModelNames(), ['m']);
      assert.equal(await named.modelExists('m'), true);
      assert.equal(await named.modelExists('3'), false);
    } finally {
      rmSync(mnt, { recursive: true, force: true });
    }
  });

  it('refuses --model-name with an object storage repository, and a name no model can have', async () => {
    await assert.rejects(
      openRepository(loadSettings({ modelRepository: 's3://bucket/models', modelName: 'spam' }, {})),
      /--model-name 'spam' names the model of a local folder/,
    );
    assert.throws(() => loadSettings({ modelName: '../etc' }, {}), /invalid setting modelName/);
  });
});
