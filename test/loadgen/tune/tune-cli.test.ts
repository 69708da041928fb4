/**
 * `inferd tune` end to end: real servers over a generated repository, a tiny sweep, the files it
 * writes, and the recommended config loads. Timing is not asserted (the machine may be busy).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  mkdirSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { addModel, writeModel } from '../../fixtures/repository.js';
import { adminHeaders, startTestServer } from '../../helpers/server.js';

const run = (args: string[]) =>
  spawnSync(process.execPath, ['bin/inferd.js', 'tune', ...args], { encoding: 'utf8', timeout: 300_000 });

describe('inferd tune', () => {
  let root: string;
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'inferd-tune-test-'));
    // No config at all: the common case of a bare ONNX file.
    writeModel(join(root, 'models'), 'add', 1, addModel(0));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('sweeps, prints the front, writes results, an SVG and a config fragment that loads', async () => {
    const out = join(root, 'out');
    const r = run([
      'add',
      '--model-repository',
      join(root, 'models'),
      '--concurrency',
      '4',
      '--duration',
      '0.5',
      '--warmup',
      '0',
      '--instances',
      '1,2',
      '--threads',
      '1',
      '--max-batch',
      '8',
      '--queue-delay-us',
      '0',
      '--pipeline-depth',
      '1',
      '--confirm-rounds',
      '2',
      '--out',
      out,
    ]);
    assert.equal(r.status, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /\| current \|/);
    assert.match(r.stdout, /\| i2 t1 b8 d0 p1 \|/);
    assert.match(r.stdout, /recommended: /);
    for (const f of ['results.md', 'results.json', 'tune.svg']) assert.ok(existsSync(join(out, f)), f);
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as {
      results: Array<{ label: string; throughput: number; failed: number }>;
    };
    assert.equal(results.results.length, 3);
    // A candidate that won the sweep was run again beside the current config; its fragment is
    // written only when that confirmed it.
    const { confirmation, recommended } = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as {
      confirmation: { keep: boolean; ratio: number; rounds: unknown[] } | null;
      recommended: { label: string } | null;
    };
    if (confirmation) {
      assert.equal(confirmation.rounds.length, 2);
      assert.equal(recommended!.label === 'current', !confirmation.keep);
      // Not confirmed: the fragment is empty (keep the current config).
      const fragment = JSON.parse(readFileSync(join(out, 'config.fragment.json'), 'utf8')) as object;
      assert.equal(Object.keys(fragment).length === 0, !confirmation.keep);
      assert.match(readFileSync(join(out, 'results.md'), 'utf8'), /## Confirmation: /);
    } else {
      assert.equal(recommended!.label, 'current');
    }
    assert.ok(
      results.results.every((x) => x.failed === 0 && x.throughput > 0),
      JSON.stringify(results),
    );
    // Whichever won, the fragment is a config the server accepts (when a candidate won, with its batch bound).
    const repo = join(root, 'applied');
    writeModel(repo, 'add', 1, addModel(0));
    writeFileSync(join(repo, 'add', 'config.pbtxt'), readFileSync(join(out, 'config.fragment.pbtxt')));
    const server = await startTestServer(repo);
    try {
      const res = await fetch(`${server.httpUrl}/v2/models/add/config`);
      assert.equal(res.status, 200);
      const cfg = (await res.json()) as { max_batch_size: number };
      if (recommended!.label !== 'current') assert.equal(cfg.max_batch_size, 8);
    } finally {
      await server.close();
    }
  });

  it('a bad setting is a usage error (exit 2) and a pipeline is refused with what to do', () => {
    const bad = run(['add', '--model-repository', join(root, 'models'), '--instances', '0']);
    assert.equal(bad.status, 2, bad.stderr);
    assert.match(bad.stderr, /--instances/);
    const pipe = join(root, 'pipe');
    mkdirSync(join(pipe, 'p', '1'), { recursive: true });
    writeFileSync(
      join(pipe, 'p', 'config.json'),
      JSON.stringify({ backend: 'pipeline', pipeline: { steps: [] } }),
    );
    const p = run(['p', '--model-repository', pipe]);
    assert.equal(p.status, 1);
    assert.match(p.stderr, /is a pipeline: tune the ONNX models its steps call/);
  });
});

describe('repositories built from symlinks', () => {
  it('model and version folders that are symlinks load, as Triton reads them', async () => {
    const root = mkdtempSync(join(tmpdir(), 'inferd-symlinks-'));
    try {
      writeModel(join(root, 'real'), 'add', 1, addModel(0));
      mkdirSync(join(root, 'repo', 'linked-version'), { recursive: true });
      symlinkSync(join(root, 'real', 'add'), join(root, 'repo', 'add'));
      symlinkSync(join(root, 'real', 'add', '1'), join(root, 'repo', 'linked-version', '1'));
      symlinkSync(join(root, 'nowhere'), join(root, 'repo', 'dangling'));
      const server = await startTestServer(join(root, 'repo'));
      try {
        const res = await fetch(`${server.httpUrl}/v2/repository/index`, {
          method: 'POST',
          headers: adminHeaders(),
        });
        const index = (await res.json()) as Array<{ name: string; state: string }>;
        assert.deepEqual(index.map((e) => `${e.name}:${e.state}`).sort(), [
          'add:READY',
          'linked-version:READY',
        ]);
      } finally {
        await server.close();
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
