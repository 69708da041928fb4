/**
 * Rollout end to end on a real server: a repository with two versions of a small model (the second
 * of `broken` fails every inference), the admin API, and /v2 REST: the split and its header,
 * stickiness, explicit versions bypassing it, promote with no failed request, the automatic
 * rollback of a broken candidate, metrics, and the state surviving a restart.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GrpcClient } from '../../src/oip-client/grpc.js';
import type { RunningServer } from '../../src/server.js';
import { buildModel } from '../../src/training/graph-builder.js';
import { addModel, writeModel } from '../fixtures/repository.js';
import { adminHeaders, startTestServer, TEST_ADMIN_TOKEN } from '../helpers/server.js';

/**
 * Same inputs and outputs as addModel, but every run asks for a [N·10⁵, 4·10⁵] float tensor
 * (160 GB per row): ONNX Runtime cannot allocate it, a backend_error. The shape depends on the
 * input, so nothing is folded away when the model loads.
 */
function brokenAddModel(): Uint8Array {
  return buildModel({
    inputs: [
      { name: 'a', type: 'FLOAT', shape: ['N', 4] },
      { name: 'b', type: 'FLOAT', shape: ['N', 4] },
    ],
    outputs: [
      { name: 'sum', type: 'FLOAT', shape: ['N', 4] },
      { name: 'diff', type: 'FLOAT', shape: ['N', 4] },
    ],
    initializers: [{ name: 'scale', type: 'INT64', dims: [2], values: [100000, 100000] }],
    nodes: [
      { op: 'Shape', inputs: ['a'], outputs: ['s'] },
      { op: 'Mul', inputs: ['s', 'scale'], outputs: ['big'] },
      { op: 'ConstantOfShape', inputs: ['big'], outputs: ['z'] },
      { op: 'ReduceMean', inputs: ['z'], outputs: ['m'], attrs: { keepdims: 0 } },
      { op: 'Add', inputs: ['a', 'b'], outputs: ['s0'] },
      { op: 'Add', inputs: ['s0', 'm'], outputs: ['sum'] },
      { op: 'Sub', inputs: ['a', 'b'], outputs: ['diff'] },
    ],
  });
}

const CONFIG = {
  max_batch_size: 8,
  version_policy: { all: {} },
  aliases: { production: '1' },
};

const body = JSON.stringify({
  inputs: [
    { name: 'a', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] },
    { name: 'b', datatype: 'FP32', shape: [1, 4], data: [1, 1, 1, 1] },
  ],
});

describe('rollout on a real server', () => {
  let repo: string;
  let dataDir: string;
  let server: RunningServer;

  before(async () => {
    repo = mkdtempSync(join(tmpdir(), 'inferd-rollout-repo-'));
    dataDir = mkdtempSync(join(tmpdir(), 'inferd-rollout-data-'));
    writeModel(repo, 'good', 1, addModel(0), CONFIG);
    writeModel(repo, 'good', 2, addModel(100));
    writeModel(repo, 'broken', 1, addModel(0), CONFIG);
    writeModel(repo, 'broken', 2, brokenAddModel());
    server = await startTestServer(repo, { dataDir, rolloutRetainMs: 60_000 });
  });
  after(async () => {
    await server?.close();
    rmSync(repo, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  });

  const infer = async (model: string, requestId?: string, version?: string) => {
    const path = version ? `/v2/models/${model}/versions/${version}/infer` : `/v2/models/${model}/infer`;
    const res = await fetch(server.httpUrl + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(requestId ? { 'x-request-id': requestId } : {}) },
      body,
    });
    const json = (await res.json()) as {
      model_version?: string;
      outputs?: { name: string; data: number[] }[];
    };
    return { status: res.status, header: res.headers.get('x-model-version'), json };
  };
  const admin = async (path: string, payload?: unknown) => {
    const res = await fetch(`${server.httpUrl}/admin/rollouts${path}`, {
      method: payload === undefined ? 'GET' : 'POST',
      headers: adminHeaders(payload === undefined ? {} : { 'content-type': 'application/json' }),
      body: payload === undefined ? undefined : JSON.stringify(payload),
    });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };

  it('the admin API needs the admin token', async () => {
    const res = await fetch(`${server.httpUrl}/admin/rollouts/good`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ version: '2', percent: 10 }),
    });
    assert.equal(res.status, 401);
  });

  it('without a rollout, the answer names its version in x-model-version', async () => {
    const r = await infer('good', 'no-rollout');
    assert.equal(r.status, 200);
    assert.equal(r.header, r.json.model_version);
  });

  it('bad commands: unknown model, unloaded version, bad share', async () => {
    assert.equal((await admin('/nope', { version: '2', percent: 10 })).status, 404);
    assert.equal((await admin('/good', { version: '7', percent: 10 })).status, 404);
    const bad = await admin('/good', { version: '2', percent: 120 });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.code, 'invalid_request');
    assert.equal((await admin('/good/promote', {})).status, 409);
  });

  it('canary: the share goes to the candidate by request id, sticky, and the header says which', async () => {
    // This test is about the split: a latency rollback on a loaded test machine is not wanted here.
    const started = await admin('/good', {
      version: '2',
      percent: 30,
      reason: 'weekly model',
      policy: { p99_slack_ms: 600_000 },
    });
    assert.equal(started.status, 201, JSON.stringify(started.json));
    assert.deepEqual(
      [started.json.phase, started.json.production, started.json.candidate],
      ['canary', '1', '2'],
    );
    const seen = new Map<string, string>();
    let two = 0;
    for (let i = 0; i < 300; i++) {
      const r = await infer('good', `req-${i}`);
      assert.equal(r.status, 200);
      assert.equal(r.header, r.json.model_version);
      // Version 2 adds 100 to sum: the header names the version that computed the answer.
      assert.equal(r.json.outputs!.find((o) => o.name === 'sum')!.data[0], r.header === '2' ? 102 : 2);
      seen.set(`req-${i}`, r.header!);
      if (r.header === '2') two++;
    }
    // 300 requests: 30% ± 8 points is > 3 standard deviations (the ±2 points over 10,000 is split.test.ts).
    assert.ok(two >= 66 && two <= 114, `${two} of 300 on the candidate`);
    for (let i = 0; i < 20; i++) assert.equal((await infer('good', `req-${i}`)).header, seen.get(`req-${i}`));
    // A request that names a version bypasses the split.
    for (let i = 0; i < 20; i++) assert.equal((await infer('good', `req-${i}`, '1')).header, '1');
    // gRPC: split by the request's id (no key here), sticky, the answer's model_version says which.
    const grpc = new GrpcClient(server.grpcUrl);
    try {
      const grpcSeen = new Set<string>();
      for (let i = 0; i < 40; i++) {
        const req = {
          modelName: 'good',
          id: `g-${i}`,
          inputs: [
            { name: 'a', datatype: 'FP32' as const, shape: [1, 4], data: new Float32Array([1, 2, 3, 4]) },
            { name: 'b', datatype: 'FP32' as const, shape: [1, 4], data: new Float32Array([1, 1, 1, 1]) },
          ],
        };
        const first = await grpc.infer(req);
        const again = await grpc.infer(req);
        assert.equal(again.modelVersion, first.modelVersion);
        grpcSeen.add(first.modelVersion!);
      }
      assert.deepEqual([...grpcSeen].sort(), ['1', '2']);
    } finally {
      await grpc.close();
    }
    assert.equal((await admin('/good')).json.phase, 'canary');
    const metrics = await (await fetch(`${server.httpUrl}/metrics`)).text();
    assert.match(metrics, /inferd_rollout_requests_total\{model="good",version="2",arm="candidate"\} \d+/);
    assert.match(metrics, /inferd_rollout_canary_percent\{model="good",candidate="2"\} 30/);
  });

  it('promote: every request keeps succeeding, then all go to the candidate; the alias moves', async () => {
    let failed = 0;
    let running = true;
    let sent = 0;
    const traffic = (async () => {
      for (; running; sent++) if ((await infer('good', `p-${sent}`)).status !== 200) failed++;
    })();
    let promoted;
    try {
      await new Promise((r) => setTimeout(r, 50));
      promoted = await admin('/good/promote', { by: 'ana' });
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      running = false;
      await traffic;
    }
    assert.equal(promoted.status, 200, JSON.stringify(promoted.json));
    assert.equal(promoted.json.phase, 'promoted');
    assert.equal(promoted.json.alias, 'production -> 2');
    assert.ok(promoted.json.retain_until);
    assert.ok(sent > 0);
    assert.equal(failed, 0);
    for (let i = 0; i < 30; i++) assert.equal((await infer('good', `after-${i}`)).header, '2');
    const config = JSON.parse(readFileSync(join(repo, 'good', 'config.json'), 'utf8')) as {
      aliases: Record<string, string>;
    };
    assert.equal(config.aliases['production'], '2');
    // The previous version is still loaded: an explicit request to it answers.
    assert.equal((await infer('good', 'old', '1')).status, 200);
  });

  it('automatic rollback: a broken candidate is rolled back at its minimum samples, and no customer sees it fail', async () => {
    const started = await admin('/broken', {
      version: '2',
      percent: 50,
      policy: { window_ms: 60_000, min_samples: 10 },
    });
    assert.equal(started.status, 201, JSON.stringify(started.json));
    const fallbacks = async (): Promise<number> => {
      const text = await (await fetch(`${server.httpUrl}/metrics`)).text();
      return Number(
        /inferd_rollout_fallbacks_total\{model="broken",version="2"\} (\d+)/.exec(text)?.[1] ?? 0,
      );
    };
    let i = 0;
    for (; i < 400 && (await fallbacks()) < 10; i++) {
      // Every answer succeeds: the candidate's failures are answered again by production.
      const r = await infer('broken', `b-${i}`);
      assert.equal(r.status, 200);
      assert.equal(r.header, '1');
    }
    assert.equal(await fallbacks(), 10, 'the candidate failed exactly its minimum samples');
    // The rollback happened at the tenth failure: from now on production answers everyone directly.
    for (let j = 0; j < 50; j++) {
      const r = await infer('broken', `b-${i + j}`);
      assert.equal(r.status, 200);
      assert.equal(r.header, '1');
    }
    assert.equal(await fallbacks(), 10, 'no request reached the candidate after the rollback');
    const state = await admin('/broken');
    assert.equal(state.json.phase, 'rolled_back');
    assert.match(String(state.json.reason), /^automatic rollback: error rate 100\.0% over 10 requests/);
    const metrics = await (await fetch(`${server.httpUrl}/metrics`)).text();
    assert.match(metrics, /inferd_rollout_rollbacks_total\{model="broken",version="2"\} 1/);
    assert.match(metrics, /inferd_rollout_phase\{model="broken",phase="rolled_back"\} 1/);
  });

  it('shadow: mirrored requests never change the answer and are counted', async () => {
    const started = await admin('/broken', {
      version: '2',
      percent: 0,
      shadow_percent: 100,
      policy: { min_samples: 1000 },
    });
    assert.equal(started.status, 201, JSON.stringify(started.json));
    // Mirrors are shed while the candidate's background lane starts; they run (and fail) once it is
    // up, after the answers: keep asking until one is counted as failed.
    let metrics = '';
    for (let i = 0; i < 200; i++) {
      const r = await infer('broken', `s-${i}`);
      assert.equal(r.status, 200);
      assert.equal(r.header, '1');
      metrics = await (await fetch(`${server.httpUrl}/metrics`)).text();
      if (/inferd_shadow_requests_total\{model="broken",version="2",outcome="failed"\} \d+/.test(metrics))
        break;
      await new Promise((r) => setTimeout(r, 25));
    }
    assert.match(metrics, /inferd_shadow_requests_total\{model="broken",version="2",outcome="failed"\} \d+/);
    // Shadow failures are not canary traffic: the rollout is still running.
    assert.equal((await admin('/broken')).json.phase, 'canary');
    assert.equal((await admin('/broken/rollback', { reason: 'done looking' })).json.phase, 'rolled_back');
  });

  it('the CLI drives the same API: start, status, rollback', async () => {
    const cli = (...args: string[]) =>
      new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
        execFile(
          process.execPath,
          ['bin/inferd.js', 'rollout', ...args, '--url', server.httpUrl],
          { env: { ...process.env, INFERD_ADMIN_TOKEN: TEST_ADMIN_TOKEN } },
          (err, out, errOut) =>
            resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out, err: errOut }),
        );
      });
    const started = await cli(
      'start',
      'broken',
      '--version',
      '2',
      '--percent',
      '5',
      '--min-samples',
      '1000',
      '--by',
      'cli-test',
    );
    assert.equal(started.code, 0, started.err);
    assert.match(started.out, /^broken: canary production=1 candidate=2 canary=5% shadow=0%/);
    const status = await cli('status', 'broken', '--json');
    assert.equal(status.code, 0, status.err);
    assert.equal((JSON.parse(status.out.trim()) as { by: string }).by, 'cli-test');
    const again = await cli('promote', 'nope');
    assert.equal(again.code, 1);
    assert.match(again.err, /404 model_not_found/);
    assert.equal((await cli('rollback', 'broken', '--reason', 'cli test')).code, 0);
    assert.equal((await cli('start', 'broken', '--percent', '5')).code, 2, 'usage error: --version missing');
  });

  it('replicas share the state: a second server on the same store follows a change within its reload', async () => {
    const other = await startTestServer(repo, { dataDir, rolloutReloadMs: 100 });
    try {
      // good's production is 2 since the promote: a canary of version 1 at 100%, for a clear signal.
      const started = await admin('/good', { version: '1', percent: 100, policy: { p99_slack_ms: 600_000 } });
      assert.equal(started.status, 201, JSON.stringify(started.json));
      let header: string | null = null;
      for (let t = 0; t < 100 && header !== '1'; t++) {
        await new Promise((r) => setTimeout(r, 50));
        const res = await fetch(`${other.httpUrl}/v2/models/good/infer`, { method: 'POST', body });
        header = res.headers.get('x-model-version');
        await res.arrayBuffer();
      }
      assert.equal(header, '1');
      assert.equal((await admin('/good/rollback', {})).status, 200);
    } finally {
      await other.close();
    }
  });

  it('the state survives a restart (it is in the store)', async () => {
    await server.close();
    server = await startTestServer(repo, { dataDir });
    const all = await admin('');
    const byModel = Object.fromEntries(
      (all.json.rollouts as { model: string; phase: string }[]).map((r) => [r.model, r.phase]),
    );
    assert.deepEqual(byModel, { broken: 'rolled_back', good: 'rolled_back' });
    assert.equal((await infer('good', 'restart')).header, '2');
    assert.equal((await infer('broken', 'restart')).header, '1');
  });
});

const pgUrl = process.env.DATABASE_URL;
describe('rollout replicas sharing PostgreSQL', { skip: pgUrl ? false : 'DATABASE_URL is not set' }, () => {
  let repo: string;
  let a: RunningServer;
  let b: RunningServer;
  // A schema per run so parallel runs never collide.
  const schema = `t_rollout_${process.pid}_${Date.now().toString(36)}`;

  before(async () => {
    repo = mkdtempSync(join(tmpdir(), 'inferd-rollout-pg-'));
    writeModel(repo, 'broken', 1, addModel(0), CONFIG);
    writeModel(repo, 'broken', 2, brokenAddModel());
    const shared = { databaseUrl: pgUrl, databaseSchema: schema, rolloutReloadMs: 100 };
    a = await startTestServer(repo, shared);
    b = await startTestServer(repo, shared);
  });
  after(async () => {
    await a?.close();
    await b?.close();
    const { PostgresStore } = await import('../../src/gateway/store/postgres.js');
    const s = await PostgresStore.open(pgUrl!, schema);
    await s.dropSchema();
    await s.close();
    rmSync(repo, { recursive: true, force: true });
  });

  const versionFrom = async (s: RunningServer, id: string) => {
    const res = await fetch(`${s.httpUrl}/v2/models/broken/infer`, {
      method: 'POST',
      headers: { 'x-request-id': id },
      body,
    });
    await res.arrayBuffer();
    return { status: res.status, version: res.headers.get('x-model-version') };
  };
  const until = async (fn: () => Promise<boolean>) => {
    for (let t = 0; t < 100; t++) {
      if (await fn()) return true;
      await new Promise((r) => setTimeout(r, 50));
    }
    return false;
  };

  it('a canary started on one replica reaches the other; a rollback judged on the other reaches the first', async () => {
    const res = await fetch(`${a.httpUrl}/admin/rollouts/broken`, {
      method: 'POST',
      headers: adminHeaders({ 'content-type': 'application/json' }),
      body: JSON.stringify({ version: '2', percent: 100, policy: { min_samples: 5 } }),
    });
    assert.equal(res.status, 201, await res.text());
    // B reads the canary within its reload: its requests reach the broken candidate, fail there
    // and are answered by production (counted as fallbacks)…
    const fallbacks = async (s: RunningServer): Promise<number> => {
      const text = await (await fetch(`${s.httpUrl}/metrics`)).text();
      return Number(
        /inferd_rollout_fallbacks_total\{model="broken",version="2"\} (\d+)/.exec(text)?.[1] ?? 0,
      );
    };
    const phase = async (s: RunningServer): Promise<string> =>
      (
        (await (await fetch(`${s.httpUrl}/admin/rollouts/broken`, { headers: adminHeaders() })).json()) as {
          phase: string;
        }
      ).phase;
    assert.ok(
      await until(async () => {
        const r = await versionFrom(b, `b-${Math.random()}`);
        assert.equal(r.status, 200, 'no client sees the candidate fail');
        return (await fallbacks(b)) > 0;
      }),
    );
    // …until B has five candidate failures and rolls back; A follows from the store.
    assert.ok(
      await until(
        async () =>
          (await versionFrom(b, `b-${Math.random()}`)).status === 200 && (await phase(b)) === 'rolled_back',
      ),
    );
    assert.ok(await until(async () => (await phase(a)) === 'rolled_back'));
    assert.equal((await versionFrom(a, `a-${Math.random()}`)).version, '1');
    const state = (await (
      await fetch(`${a.httpUrl}/admin/rollouts/broken`, { headers: adminHeaders() })
    ).json()) as { phase: string; reason: string };
    assert.equal(state.phase, 'rolled_back');
    assert.match(state.reason, /^automatic rollback: error rate 100\.0% over 5 requests/);
  });
});

describe('rollout with API keys required on /v2', () => {
  let repo: string;
  let server: RunningServer;

  before(async () => {
    repo = mkdtempSync(join(tmpdir(), 'inferd-rollout-keys-'));
    writeModel(repo, 'good', 1, addModel(0), CONFIG);
    writeModel(repo, 'good', 2, addModel(100));
    server = await startTestServer(repo, { v2Auth: 'keys' });
  });
  after(async () => {
    await server?.close();
    rmSync(repo, { recursive: true, force: true });
  });

  it('sticky per API key: every request of a key gets the same version, whatever its request id', async () => {
    const started = await fetch(`${server.httpUrl}/admin/rollouts/good`, {
      method: 'POST',
      headers: adminHeaders({ 'content-type': 'application/json' }),
      body: JSON.stringify({ version: '2', percent: 50, policy: { p99_slack_ms: 600_000 } }),
    });
    assert.equal(started.status, 201, await started.text());
    const versions = new Set<string>();
    for (let k = 0; k < 30; k++) {
      const created = await fetch(`${server.httpUrl}/admin/keys`, {
        method: 'POST',
        headers: adminHeaders({ 'content-type': 'application/json' }),
        body: JSON.stringify({ name: `k${k}` }),
      });
      const { key } = (await created.json()) as { key: string };
      const seen = new Set<string>();
      for (let i = 0; i < 3; i++) {
        const res = await fetch(`${server.httpUrl}/v2/models/good/infer`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'x-request-id': `k${k}-r${i}` },
          body,
        });
        assert.equal(res.status, 200, await res.clone().text());
        await res.arrayBuffer();
        seen.add(res.headers.get('x-model-version')!);
      }
      assert.equal(seen.size, 1, `key ${k} saw ${[...seen].join(', ')}`);
      versions.add([...seen][0]!);
    }
    // 30 keys at 50%: both arms are taken (all on one side has probability 2 × 2⁻³⁰).
    assert.deepEqual([...versions].sort(), ['1', '2']);
  });
});
