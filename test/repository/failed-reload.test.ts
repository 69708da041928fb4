/**
 * A reload whose every new version fails keeps the versions that serve (a half-uploaded or corrupt
 * latest version must not take the model down), and lists the failed one with its reason. The
 * same for a local folder as for object storage (object-storage-*.test.ts).
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../src/server.js';
import { addModel, makeFixtureRepository, writeModel } from '../fixtures/repository.js';
import { inferAdd } from '../helpers/object-repository.js';
import { adminHeaders, startTestServer } from '../helpers/server.js';

describe('a reload whose new version fails', () => {
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

  const load = async (): Promise<number> =>
    (
      await fetch(`${server.httpUrl}/v2/repository/models/add/load`, {
        method: 'POST',
        headers: adminHeaders(),
      })
    ).status;
  const index = async (): Promise<Array<{ name: string; version?: string; state: string; reason: string }>> =>
    (
      (await (
        await fetch(`${server.httpUrl}/v2/repository/index`, { method: 'POST', headers: adminHeaders() })
      ).json()) as Array<{ name: string; version?: string; state: string; reason: string }>
    ).filter((e) => e.name === 'add');

  it('keeps version 1 serving, and lists version 2 UNAVAILABLE with its reason', async () => {
    writeModel(repo, 'add', 2, 'not an ONNX file');
    assert.equal(await load(), 200);
    const rows = await index();
    assert.deepEqual(
      rows.map((e) => [e.version, e.state]),
      [
        ['1', 'READY'],
        ['2', 'UNAVAILABLE'],
      ],
    );
    assert.match(rows[1]!.reason, /ONNX Runtime could not load add\/2\/model\.onnx/);
    const r = await inferAdd(server.httpUrl);
    assert.deepEqual([r.status, r.version], [200, '1']);
  });

  it('once version 2 is fixed, a reload swaps to it and retires version 1', async () => {
    writeModel(repo, 'add', 2, addModel(10));
    assert.equal(await load(), 200);
    assert.deepEqual(
      (await index()).map((e) => [e.version, e.state]),
      [['2', 'READY']],
    );
    const r = await inferAdd(server.httpUrl);
    assert.deepEqual([r.status, r.version, r.sum], [200, '2', 11]);
  });
});
