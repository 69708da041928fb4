/**
 * Versions are immutable once written: a version whose model file no longer matches the SHA-256 in
 * its lineage.json is UNAVAILABLE with the reason, through the real server; a matching one serves
 * and its metadata carries the lineage. The registry (models list/show/alias) reads the same files.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LINEAGE_FILE, type Lineage } from '../../src/core/lineage.js';
import { aliasHistory, aliasesOf, listVersionEntries, moveAlias } from '../../src/repository/registry.js';
import type { RunningServer } from '../../src/server.js';
import { addModel, writeModel } from '../fixtures/repository.js';
import { adminHeaders, startTestServer } from '../helpers/server.js';

function writeLineage(repo: string, version: number, bytes: Uint8Array): void {
  const lineage: Lineage = {
    schema: 'inferd.lineage/v1',
    model: 'add',
    version: String(version),
    created_at: '2026-12-02T00:00:00.000Z',
    artifact: {
      file: 'model.onnx',
      sha256: createHash('sha256').update(bytes).digest('hex'),
      bytes: bytes.length,
    },
    data: { source: 'test', sha256: '0'.repeat(64), rows: { train: 1 }, test_split_sha256: '1'.repeat(64) },
    code: { inferd: '0.0.0', revision: null },
    parameters: { seed: version },
    metrics: { test: { f1: 0.5 } },
    baselines: {},
    compared_against: null,
  };
  writeFileSync(join(repo, 'add', String(version), LINEAGE_FILE), JSON.stringify(lineage));
}

describe('lineage: digests checked at load', () => {
  let server: RunningServer;
  let repo: string;
  before(async () => {
    repo = mkdtempSync(join(tmpdir(), 'inferd-lineage-'));
    const config = { max_batch_size: 8, version_policy: { all: {} }, aliases: { production: '1' } };
    for (const v of [1, 2, 3]) {
      const bytes = addModel(v);
      writeModel(repo, 'add', v, bytes, config);
      writeLineage(repo, v, bytes);
    }
    // Version 3 is changed after it was written.
    appendFileSync(join(repo, 'add', '3', 'model.onnx'), Buffer.from([0]));
    server = await startTestServer(repo);
  });
  after(async () => {
    await server.close();
    rmSync(repo, { recursive: true, force: true });
  });

  it('a matching version serves, and its metadata carries the lineage', async () => {
    const meta = (await (await fetch(`${server.httpUrl}/v2/models/add/versions/2`)).json()) as {
      lineage?: Lineage;
    };
    assert.equal(meta.lineage?.version, '2');
    assert.equal(meta.lineage?.parameters['seed'], 2);
  });

  it('a tampered model file makes its version UNAVAILABLE with the reason; the other keeps serving', async () => {
    const index = (await (
      await fetch(`${server.httpUrl}/v2/repository/index`, { method: 'POST', headers: adminHeaders() })
    ).json()) as Array<{ name: string; version?: string; state: string; reason: string }>;
    const v3 = index.find((e) => e.name === 'add' && e.version === '3');
    assert.equal(v3?.state, 'UNAVAILABLE');
    assert.match(v3?.reason ?? '', /modified after it was written/);
    assert.equal((await fetch(`${server.httpUrl}/v2/models/add/versions/2/ready`)).status, 200);

    const entries = await listVersionEntries(repo, 'add');
    assert.deepEqual(
      entries.map((e) => [e.version, e.integrity, e.aliases]),
      [
        ['1', 'verified', ['production']],
        ['2', 'verified', []],
        ['3', 'MODIFIED', []],
      ],
    );
  });
});

describe('registry: aliases move atomically with an append-only history', () => {
  it('records from, to, by, at and why; refuses bad names and missing versions', () => {
    const repo = mkdtempSync(join(tmpdir(), 'inferd-alias-'));
    try {
      writeModel(repo, 'add', 1, addModel(1), { aliases: { production: '1' }, max_batch_size: 4 });
      writeModel(repo, 'add', 2, addModel(2));
      const m = moveAlias(repo, 'add', 'production', '2', { by: 'ci', reason: 'gate passed' });
      assert.deepEqual([m.from, m.to, m.by, m.reason], ['1', '2', 'ci', 'gate passed']);
      moveAlias(repo, 'add', 'canary', '1', { by: 'ana', reason: 'try' });
      assert.deepEqual(aliasesOf(repo, 'add'), { production: '2', canary: '1' });
      // Other config fields survive the rewrite.
      assert.equal(
        (JSON.parse(readFileSync(join(repo, 'add', 'config.json'), 'utf8')) as { max_batch_size: number })
          .max_batch_size,
        4,
      );
      assert.deepEqual(
        aliasHistory(repo, 'add').map((h) => [h.alias, h.from, h.to, h.by]),
        [
          ['production', '1', '2', 'ci'],
          ['canary', null, '1', 'ana'],
        ],
      );
      assert.throws(() => moveAlias(repo, 'add', 'production', '7', { by: 'x', reason: 'y' }), /no version/);
      assert.throws(() => moveAlias(repo, 'add', '../x', '1', { by: 'x', reason: 'y' }), /alias/);
      assert.throws(() => moveAlias(repo, 'add', 'prod', '1', { by: 'x', reason: ' ' }), /reason/);
      assert.throws(() => moveAlias(repo, '../etc', 'prod', '1', { by: 'x', reason: 'y' }), /no model/);
      assert.equal(aliasHistory(repo, 'add').length, 2, 'refused moves are not recorded');
    } finally {
      rmSync(repo, { recursive: true, force: true });
    }
  });
});
