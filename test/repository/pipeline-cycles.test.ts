/**
 * Pipelines whose calls come back to themselves (issue 23, finding 12). Such a pipeline used to load
 * READY and hold its concurrency slots forever on the first request; now every model on a cycle is
 * UNAVAILABLE with a reason naming the cycle, whatever order the models load in, and a load that
 * would close a cycle later is refused while the models already serving keep serving.
 */
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../src/server.js';
import { makeFixtureRepository } from '../fixtures/repository.js';
import { adminHeaders, startTestServer } from '../helpers/server.js';

/** A pipeline over `add`'s tensors (a, b → sum) whose one step calls `target`. */
function writePipeline(root: string, name: string, target: string): void {
  mkdirSync(join(root, name, '1'), { recursive: true });
  const tensor = (n: string) => ({ name: n, data_type: 'TYPE_FP32', dims: [1, 4] });
  writeFileSync(
    join(root, name, 'config.json'),
    JSON.stringify({
      backend: 'pipeline',
      max_batch_size: 0,
      input: [tensor('a'), tensor('b')],
      output: [tensor('sum')],
      pipeline: {
        max_concurrency: 2,
        steps: [{ name: 'call', model: target, inputs: { a: 'a', b: 'b' }, outputs: { sum: 'sum' } }],
      },
    }),
  );
}

interface IndexEntry {
  name: string;
  version?: string;
  state: string;
  reason: string;
}

describe('pipeline call cycles', () => {
  let server: RunningServer;
  let repo: string;
  before(async () => {
    repo = makeFixtureRepository();
    writePipeline(repo, 'via_add', 'add'); // no cycle: serves
    writePipeline(repo, 'self', 'self');
    writePipeline(repo, 'ping', 'pong');
    writePipeline(repo, 'pong', 'ping');
    writePipeline(repo, 'late_a', 'late_b'); // late_b appears later
    // A function step that names a model in its parameters: ocr.classify calling its own pipeline.
    mkdirSync(join(repo, 'cls_loop', '1'), { recursive: true });
    writeFileSync(
      join(repo, 'cls_loop', 'config.json'),
      JSON.stringify({
        backend: 'pipeline',
        input: [{ name: 'image', data_type: 'TYPE_STRING', dims: [1] }],
        output: [{ name: 'text', data_type: 'TYPE_STRING', dims: [1] }],
        pipeline: {
          steps: [
            {
              function: 'ocr.classify',
              inputs: { crops: 'image', widths: 'image', boxes: 'image' },
              outputs: { crops: 'text', boxes: 'b' },
              parameters: { model: 'cls_loop' },
            },
          ],
        },
      }),
    );
    server = await startTestServer(repo);
  });
  after(async () => {
    await server.close();
    rmSync(repo, { recursive: true, force: true });
  });

  const index = async (): Promise<Map<string, IndexEntry>> => {
    const res = await fetch(server.httpUrl + '/v2/repository/index', {
      method: 'POST',
      headers: adminHeaders(),
    });
    return new Map(((await res.json()) as IndexEntry[]).map((e) => [e.name, e]));
  };

  /** An add request to `model`; bounded, so that a deadlock fails the test instead of hanging it. */
  const infer = async (model: string): Promise<{ status: number; body: Record<string, unknown> }> => {
    const res = await fetch(`${server.httpUrl}/v2/models/${model}/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        inputs: [
          { name: 'a', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] },
          { name: 'b', shape: [1, 4], datatype: 'FP32', data: [1, 1, 1, 1] },
        ],
      }),
      signal: AbortSignal.timeout(20_000),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it('refuses at start-up every model on a cycle, naming the cycle; the others serve', async () => {
    const idx = await index();
    assert.equal(idx.get('via_add')?.state, 'READY');
    assert.equal(idx.get('self')?.state, 'UNAVAILABLE');
    assert.match(idx.get('self')!.reason, /circular dependency: self → self/);
    for (const [name, other] of [
      ['ping', 'pong'],
      ['pong', 'ping'],
    ] as const) {
      assert.equal(idx.get(name)?.state, 'UNAVAILABLE', name);
      assert.match(idx.get(name)!.reason, new RegExp(`circular dependency: ${name} → ${other} → ${name}`));
    }
    assert.equal(idx.get('cls_loop')?.state, 'UNAVAILABLE');
    assert.match(idx.get('cls_loop')!.reason, /circular dependency: cls_loop → cls_loop/);
    assert.equal((await fetch(`${server.httpUrl}/v2/models/self/ready`)).status, 503);
  });

  it('answers a request to a refused pipeline at once instead of deadlocking it', async () => {
    const good = await infer('via_add');
    assert.equal(good.status, 200, JSON.stringify(good.body));
    for (let i = 0; i < 3; i++) {
      const res = await infer('self');
      assert.equal(res.status, 503);
      assert.equal(res.body.code, 'model_unavailable');
      assert.match(String(res.body.error), /circular dependency: self → self/);
    }
  });

  it('refuses a later load that would close a cycle; the model already serving keeps serving', async () => {
    assert.equal((await index()).get('late_a')?.state, 'READY');
    writePipeline(repo, 'late_b', 'late_a');
    await fetch(server.httpUrl + '/v2/repository/models/late_b/load', {
      method: 'POST',
      headers: adminHeaders(),
    });
    const idx = await index();
    assert.equal(idx.get('late_b')?.state, 'UNAVAILABLE');
    assert.match(idx.get('late_b')!.reason, /circular dependency: late_b → late_a → late_b/);
    assert.equal(idx.get('late_a')?.state, 'READY');
    // late_a's call to late_b is refused at once (no slot is held waiting).
    const res = await infer('late_a');
    assert.equal(res.status, 503);
    assert.match(String(res.body.error), /late_b/);
    // Reloading late_a changes nothing: its call to late_b closes no cycle among serving models.
    await fetch(server.httpUrl + '/v2/repository/models/late_a/load', {
      method: 'POST',
      headers: adminHeaders(),
    });
    assert.equal((await index()).get('late_a')?.state, 'READY');
  });

  it('a reload that would turn a serving pipeline into a cycle keeps the version that serves', async () => {
    writePipeline(repo, 'via_add', 'via_add');
    await fetch(server.httpUrl + '/v2/repository/models/via_add/load', {
      method: 'POST',
      headers: adminHeaders(),
    });
    const idx = await index();
    assert.equal(idx.get('via_add')?.state, 'READY');
    assert.equal((await infer('via_add')).status, 200);
  });
});
