/** Version policies, aliases, and model configs read from disk. */
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseModelConfig } from '../../src/core/model-config.js';
import { selectVersions } from '../../src/repository/scan.js';
import type { RunningServer } from '../../src/server.js';
import { addModel, makeFixtureRepository } from '../fixtures/repository.js';
import { startTestServer } from '../helpers/server.js';

describe('version policy', () => {
  const cfg = (policy: unknown) => parseModelConfig({ version_policy: policy }, 'm');
  it('latest N, all, specific', () => {
    assert.deepEqual(selectVersions(cfg(undefined), [1, 2, 3], 'm'), [3]);
    assert.deepEqual(selectVersions(cfg({ latest: { num_versions: 2 } }), [1, 2, 3], 'm'), [2, 3]);
    assert.deepEqual(selectVersions(cfg({ all: {} }), [1, 2, 3], 'm'), [1, 2, 3]);
    assert.deepEqual(selectVersions(cfg({ specific: { versions: [3, 1] } }), [1, 2, 3], 'm'), [1, 3]);
    assert.throws(() => selectVersions(cfg({ specific: { versions: [4] } }), [1, 2], 'm'), /version\(s\) 4/);
  });

  it('config errors name the field', () => {
    assert.throws(() => parseModelConfig({ max_batch_size: -1 }, 'm'), /max_batch_size/);
    assert.throws(
      () => parseModelConfig({ input: [{ name: 'x', data_type: 'FLOAT', dims: [1] }] }, 'm'),
      /input\.0\.data_type/,
    );
    assert.throws(() => parseModelConfig({ name: 'other' }, 'm'), /differs from its folder name/);
    assert.equal(
      parseModelConfig({ input: [{ name: 'x', data_type: 'TYPE_STRING', dims: [1] }] }, 'm').input![0]!
        .data_type,
      'BYTES',
    );
  });
});

describe('versions served side by side', () => {
  let server: RunningServer;
  let repo: string;
  before(async () => {
    repo = makeFixtureRepository();
    for (const [v, offset] of [
      [1, 0],
      [2, 10],
      [3, 20],
    ] as const) {
      mkdirSync(join(repo, 'multi', String(v)), { recursive: true });
      writeFileSync(join(repo, 'multi', String(v), 'model.onnx'), addModel(offset));
    }
    writeFileSync(
      join(repo, 'multi', 'config.json'),
      JSON.stringify({
        max_batch_size: 4,
        version_policy: { specific: { versions: [1, 3] } },
        aliases: { production: 1, canary: '3' },
      }),
    );
    server = await startTestServer(repo);
  });
  after(async () => {
    await server.close();
    rmSync(repo, { recursive: true, force: true });
  });

  const sum0 = async (version?: string): Promise<[number, string, number]> => {
    const path = version ? `/v2/models/multi/versions/${version}/infer` : '/v2/models/multi/infer';
    const res = await fetch(server.httpUrl + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        inputs: [
          { name: 'a', shape: [1, 4], datatype: 'FP32', data: [1, 1, 1, 1] },
          { name: 'b', shape: [1, 4], datatype: 'FP32', data: [0, 0, 0, 0] },
        ],
        outputs: [{ name: 'sum' }],
      }),
    });
    const body = (await res.json()) as { model_version: string; outputs?: Array<{ data: number[] }> };
    return [res.status, body.model_version, body.outputs?.[0]?.data[0] ?? NaN];
  };

  it('routes to production by default (else the latest), to a version, or to an alias', async () => {
    // A model with a `production` alias serves it to requests that name no version: a newer
    // version in the repository serves only once promoted (or asked for by number or alias).
    assert.deepEqual(await sum0(), [200, '1', 1]);
    assert.deepEqual(await sum0('1'), [200, '1', 1]);
    assert.deepEqual(await sum0('production'), [200, '1', 1]);
    assert.deepEqual(await sum0('canary'), [200, '3', 21]);
    const missing = await fetch(server.httpUrl + '/v2/models/multi/versions/2/ready');
    assert.equal(missing.status, 404, 'version 2 is outside the policy');
    const md = (await (await fetch(server.httpUrl + '/v2/models/multi')).json()) as { versions: string[] };
    assert.deepEqual(md.versions.sort(), ['1', '3']);
  });
});
