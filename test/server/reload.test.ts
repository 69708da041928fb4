/**
 * A version swap while requests flow loses none: the new version loads fully before the old one
 * stops serving (model repository extension).
 */
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../src/server.js';
import { addModel, makeFixtureRepository } from '../fixtures/repository.js';
import { adminHeaders, startTestServer } from '../helpers/server.js';

describe('reload under load', () => {
  let server: RunningServer;
  let repo: string;
  before(async () => {
    repo = makeFixtureRepository();
    server = await startTestServer(repo);
  });
  after(async () => {
    await server.close();
    rmSync(repo, { recursive: true, force: true });
  });

  const infer = async (): Promise<{ status: number; version?: string; sum0?: number }> => {
    const res = await fetch(server.httpUrl + '/v2/models/add/infer', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        inputs: [
          { name: 'a', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] },
          { name: 'b', shape: [1, 4], datatype: 'FP32', data: [0, 0, 0, 0] },
        ],
        outputs: [{ name: 'sum' }],
      }),
    });
    if (res.status !== 200) return { status: res.status };
    const body = (await res.json()) as { model_version: string; outputs: Array<{ data: number[] }> };
    return { status: 200, version: body.model_version, sum0: body.outputs[0]!.data[0] };
  };

  it('swaps version 1 for version 2 (and reloads in place) with zero failed requests', async () => {
    let stop = false;
    const results: Array<Awaited<ReturnType<typeof infer>>> = [];
    const loops = Array.from({ length: 6 }, async () => {
      while (!stop) results.push(await infer());
    });
    await new Promise((r) => setTimeout(r, 100));
    // Version 2 adds 100 to the sum, so answers tell which version computed them.
    mkdirSync(join(repo, 'add', '2'));
    writeFileSync(join(repo, 'add', '2', 'model.onnx'), addModel(100));
    const load = await fetch(server.httpUrl + '/v2/repository/models/add/load', {
      method: 'POST',
      headers: adminHeaders(),
    });
    assert.equal(load.status, 200);
    const afterSwap = results.length;
    await new Promise((r) => setTimeout(r, 100));
    // Reload the same version in place (new file for version 2).
    writeFileSync(join(repo, 'add', '2', 'model.onnx'), addModel(200));
    assert.equal(
      (
        await fetch(server.httpUrl + '/v2/repository/models/add/load', {
          method: 'POST',
          headers: adminHeaders(),
        })
      ).status,
      200,
    );
    await new Promise((r) => setTimeout(r, 100));
    stop = true;
    await Promise.all(loops);

    const failed = results.filter((r) => r.status !== 200);
    assert.deepEqual(failed, [], 'no request failed during the swaps');
    assert.ok(results.slice(0, afterSwap).some((r) => r.version === '1' && r.sum0 === 1));
    assert.ok(results.some((r) => r.version === '2' && r.sum0 === 101));
    assert.equal(results.at(-1)!.sum0, 201);
    // Version 1 is gone (latest-1 policy), version 2 serves.
    const index = (await (
      await fetch(server.httpUrl + '/v2/repository/index', { method: 'POST', headers: adminHeaders() })
    ).json()) as Array<{ name: string; version?: string; state: string }>;
    assert.deepEqual(
      index.filter((e) => e.name === 'add').map((e) => [e.version, e.state]),
      [['2', 'READY']],
    );
  });

  it('unload makes the model unavailable; load brings it back', async () => {
    assert.equal(
      (
        await fetch(server.httpUrl + '/v2/repository/models/add/unload', {
          method: 'POST',
          headers: adminHeaders(),
        })
      ).status,
      200,
    );
    const res = await infer();
    assert.equal(res.status, 503);
    assert.equal(
      (
        await fetch(server.httpUrl + '/v2/repository/models/add/load', {
          method: 'POST',
          headers: adminHeaders(),
        })
      ).status,
      200,
    );
    assert.equal((await infer()).status, 200);
    const missing = await fetch(server.httpUrl + '/v2/repository/models/nope/load', {
      method: 'POST',
      headers: adminHeaders(),
    });
    assert.equal(missing.status, 404);
  });
});
