/**
 * Triton's response cache through the server: a model that opts in answers a repeated request
 * from the cache with the same bytes and without running the model; other versions and other
 * outputs never hit; errors are not cached; the hits and misses show in /v2/models/stats
 * (cache_hit, cache_miss) and /metrics (inferd's and Triton's names).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../src/server.js';
import type { ModelStatistics } from '../../src/core/statistics.js';
import { addModel, writeModel } from '../fixtures/repository.js';
import { adminHeaders, startTestServer } from '../helpers/server.js';

function repository(): string {
  const root = mkdtempSync(join(tmpdir(), 'inferd-cache-'));
  const config = { max_batch_size: 8, response_cache: { enable: true }, version_policy: { all: {} } };
  writeModel(root, 'cached', 1, addModel(0), config);
  writeModel(root, 'cached', 2, addModel(100));
  writeModel(root, 'plain', 1, addModel(0), { max_batch_size: 8 });
  writeModel(root, 'from_pbtxt', 1, addModel(0));
  writeFileSync(
    join(root, 'from_pbtxt', 'config.pbtxt'),
    'max_batch_size: 8\nresponse_cache { enable: true }\n',
  );
  return root;
}

interface InferBody {
  model_version: string;
  outputs: Array<{ name: string; data: number[] }>;
}

async function infer(
  url: string,
  model: string,
  a: number[],
  opts: { version?: string; outputs?: string[] } = {},
): Promise<{ status: number; text: string }> {
  const path = opts.version
    ? `/v2/models/${model}/versions/${opts.version}/infer`
    : `/v2/models/${model}/infer`;
  const res = await fetch(url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      inputs: [
        { name: 'a', shape: [1, 4], datatype: 'FP32', data: a },
        { name: 'b', shape: [1, 4], datatype: 'FP32', data: [1, 1, 1, 1] },
      ],
      ...(opts.outputs ? { outputs: opts.outputs.map((name) => ({ name })) } : {}),
    }),
  });
  return { status: res.status, text: await res.text() };
}

async function stats(url: string, model: string, version: string): Promise<ModelStatistics> {
  const res = await fetch(`${url}/v2/models/${model}/versions/${version}/stats`, { headers: adminHeaders() });
  const body = (await res.json()) as { model_stats: ModelStatistics[] };
  return body.model_stats[0]!;
}

describe('response cache', () => {
  let server: RunningServer;
  let repo: string;
  before(async () => {
    repo = repository();
    server = await startTestServer(repo, { metricsFormat: 'both' });
  });
  after(async () => {
    await server.close();
    rmSync(repo, { recursive: true, force: true });
  });

  it('answers a repeated request from the cache: identical bytes, no model execution', async () => {
    const before = await stats(server.httpUrl, 'cached', '1');
    const first = await infer(server.httpUrl, 'cached', [1, 2, 3, 4], { version: '1' });
    const second = await infer(server.httpUrl, 'cached', [1, 2, 3, 4], { version: '1' });
    assert.equal(first.status, 200);
    assert.equal(second.text, first.text);
    assert.deepEqual(
      (JSON.parse(second.text) as InferBody).outputs.find((o) => o.name === 'sum')!.data,
      [2, 3, 4, 5],
    );
    const s = await stats(server.httpUrl, 'cached', '1');
    assert.equal(s.inference_stats.cache_miss.count - before.inference_stats.cache_miss.count, 1);
    assert.equal(s.inference_stats.cache_hit.count - before.inference_stats.cache_hit.count, 1);
    assert.equal(s.inference_stats.success.count - before.inference_stats.success.count, 2);
    assert.equal(s.execution_count - before.execution_count, 1, 'the hit did not run the model');
  });

  it('never answers another version, other outputs or other inputs from an entry', async () => {
    const v1 = await infer(server.httpUrl, 'cached', [5, 5, 5, 5], { version: '1' });
    const v2 = await infer(server.httpUrl, 'cached', [5, 5, 5, 5], { version: '2' });
    assert.deepEqual(
      (JSON.parse(v1.text) as InferBody).outputs.find((o) => o.name === 'sum')!.data,
      [6, 6, 6, 6],
    );
    assert.deepEqual(
      (JSON.parse(v2.text) as InferBody).outputs.find((o) => o.name === 'sum')!.data,
      [106, 106, 106, 106],
    );
    const v2stats = await stats(server.httpUrl, 'cached', '2');
    assert.deepEqual(
      [v2stats.inference_stats.cache_hit.count, v2stats.inference_stats.cache_miss.count],
      [0, 1],
    );

    const before = await stats(server.httpUrl, 'cached', '1');
    const onlyDiff = await infer(server.httpUrl, 'cached', [5, 5, 5, 5], { version: '1', outputs: ['diff'] });
    assert.deepEqual(
      (JSON.parse(onlyDiff.text) as InferBody).outputs.map((o) => o.name),
      ['diff'],
    );
    await infer(server.httpUrl, 'cached', [5, 5, 5, 6], { version: '1' });
    const s = await stats(server.httpUrl, 'cached', '1');
    assert.equal(s.inference_stats.cache_hit.count, before.inference_stats.cache_hit.count);
    assert.equal(s.inference_stats.cache_miss.count - before.inference_stats.cache_miss.count, 2);
  });

  it('does not cache errors, and leaves models that did not opt in alone', async () => {
    const bad = async (): Promise<number> =>
      (
        await fetch(`${server.httpUrl}/v2/models/cached/versions/1/infer`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            inputs: [{ name: 'a', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] }],
          }),
        })
      ).status;
    const before = await stats(server.httpUrl, 'cached', '1');
    assert.equal(await bad(), 400);
    assert.equal(await bad(), 400);
    const s = await stats(server.httpUrl, 'cached', '1');
    assert.equal(s.inference_stats.cache_hit.count, before.inference_stats.cache_hit.count);

    await infer(server.httpUrl, 'plain', [1, 2, 3, 4]);
    await infer(server.httpUrl, 'plain', [1, 2, 3, 4]);
    const p = await stats(server.httpUrl, 'plain', '1');
    assert.deepEqual(
      [p.inference_stats.cache_hit.count, p.inference_stats.cache_miss.count, p.execution_count],
      [0, 0, 2],
    );
  });

  it("counts hits and misses in /metrics, in inferd's and Triton's names", async () => {
    const text = await (await fetch(`${server.httpUrl}/metrics`)).text();
    const value = (name: string): number => {
      const m = new RegExp(`^${name}\\{model="cached",version="1"\\} (\\S+)$`, 'm').exec(text);
      return m ? Number(m[1]) : NaN;
    };
    const s = await stats(server.httpUrl, 'cached', '1');
    assert.equal(value('inferd_cache_hits_total'), s.inference_stats.cache_hit.count);
    assert.equal(value('inferd_cache_misses_total'), s.inference_stats.cache_miss.count);
    assert.equal(value('nv_cache_num_hits_per_model'), s.inference_stats.cache_hit.count);
    assert.equal(value('nv_cache_num_misses_per_model'), s.inference_stats.cache_miss.count);
    assert.match(text, /^inferd_cache_entries [1-9]\d*$/m);
    assert.match(text, /^inferd_cache_bytes [1-9]\d*$/m);
  });
});

describe('response_cache in the config endpoint', () => {
  it("reports the model's setting in Triton's shape", async () => {
    const repo = repository();
    const server = await startTestServer(repo);
    try {
      const enabled = async (model: string): Promise<unknown> => {
        const res = await fetch(`${server.httpUrl}/v2/models/${model}/config`, { headers: adminHeaders() });
        return ((await res.json()) as { response_cache?: unknown }).response_cache;
      };
      assert.deepEqual(await enabled('cached'), { enable: true });
      assert.deepEqual(await enabled('plain'), { enable: false });
      assert.deepEqual(await enabled('from_pbtxt'), { enable: true });
    } finally {
      await server.close();
      rmSync(repo, { recursive: true, force: true });
    }
  });
});

describe('response cache turned off (--cache-size-bytes 0)', () => {
  it('runs every request, even for a model that enables the cache', async () => {
    const repo = repository();
    const server = await startTestServer(repo, { cacheSizeBytes: 0 });
    try {
      await infer(server.httpUrl, 'cached', [1, 2, 3, 4], { version: '1' });
      await infer(server.httpUrl, 'cached', [1, 2, 3, 4], { version: '1' });
      const s = await stats(server.httpUrl, 'cached', '1');
      assert.deepEqual(
        [s.inference_stats.cache_hit.count, s.inference_stats.cache_miss.count, s.execution_count],
        [0, 0, 2],
      );
    } finally {
      await server.close();
      rmSync(repo, { recursive: true, force: true });
    }
  });
});

describe('response cache with a small budget (--cache-size-bytes 1024)', () => {
  it('evicts the least recently used responses and stays within its bytes', async () => {
    const repo = repository();
    const server = await startTestServer(repo, { cacheSizeBytes: 1024 });
    try {
      // Each entry is ~330 bytes (two 16-byte outputs + 256 overhead + names): 3 fit.
      for (let i = 0; i < 6; i += 1) await infer(server.httpUrl, 'cached', [i, 0, 0, 0], { version: '1' });
      const before = await stats(server.httpUrl, 'cached', '1');
      await infer(server.httpUrl, 'cached', [0, 0, 0, 0], { version: '1' }); // evicted long ago
      await infer(server.httpUrl, 'cached', [5, 0, 0, 0], { version: '1' }); // among the latest
      const s = await stats(server.httpUrl, 'cached', '1');
      assert.equal(s.inference_stats.cache_miss.count - before.inference_stats.cache_miss.count, 1);
      assert.equal(s.inference_stats.cache_hit.count - before.inference_stats.cache_hit.count, 1);
      const text = await (await fetch(`${server.httpUrl}/metrics`)).text();
      const bytes = Number(/^inferd_cache_bytes (\d+)$/m.exec(text)?.[1]);
      assert.ok(bytes > 0 && bytes <= 1024, `cache bytes ${bytes}`);
      assert.ok(Number(/^inferd_cache_evictions_total (\d+)$/m.exec(text)?.[1]) >= 3);
    } finally {
      await server.close();
      rmSync(repo, { recursive: true, force: true });
    }
  });
});
