/**
 * Load shedding before the body is parsed: when a model's queue is full, an infer request is refused
 * with 503 queue_full without its body being read (a malformed body proves it was never parsed),
 * the keep-alive connection stays usable, and the refusal is counted as a failure.
 * Asserts statuses and counters, never timings.
 */
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../src/server.js';
import { makeFixtureRepository, slowModel } from '../fixtures/repository.js';
import { startTestServer } from '../helpers/server.js';

const json = { 'content-type': 'application/json' };
const body = (x: number) =>
  JSON.stringify({ inputs: [{ name: 'x', shape: [1, 1], datatype: 'FP32', data: [x] }] });

/** POST over one keep-alive agent, so that reuse of the refused connection is exercised. */
function post(agent: http.Agent, url: string, payload: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers: json }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

describe('REST load shedding', () => {
  let server: RunningServer;
  let repo: string;
  before(async () => {
    repo = makeFixtureRepository();
    mkdirSync(join(repo, 'busy', '1'), { recursive: true });
    writeFileSync(join(repo, 'busy', '1', 'model.onnx'), slowModel(100));
    writeFileSync(
      join(repo, 'busy', 'config.json'),
      JSON.stringify({ max_batch_size: 0, dynamic_batching: { max_queue_size: 1 } }),
    );
    server = await startTestServer(repo);
  });
  after(async () => {
    await server.close();
    rmSync(repo, { recursive: true, force: true });
  });

  const scheduler = () => server.service.models.get('busy')!.versions.get('1')!.scheduler!;
  const until = async (cond: () => boolean) => {
    while (!cond()) await new Promise((r) => setTimeout(r, 1));
  };

  it('refuses before parsing the body, keeps the connection, counts the failure', async () => {
    const url = `${server.httpUrl}/v2/models/busy/infer`;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const other = new http.Agent({ keepAlive: true });
    try {
      const failBefore = server.service.statistics('busy')[0]!.inference_stats.fail.count;
      const running = post(other, url, body(1));
      await until(() => scheduler().pending >= 1);
      const queued = post(other, url, body(2));
      await until(() => scheduler().full);
      // Not JSON at all: parsing it would answer 400 invalid_json.
      const refused = await post(agent, url, '{ this is not json '.repeat(1000));
      assert.equal(refused.status, 503);
      assert.equal((JSON.parse(refused.text) as { code: string }).code, 'queue_full');
      assert.deepEqual(
        [(await running).status, (await queued).status],
        [200, 200],
        'admitted requests are served',
      );
      // Same agent, one socket: the refused connection carries the next request.
      const next = await post(agent, url, body(3));
      assert.equal(next.status, 200);
      const failAfter = server.service.statistics('busy')[0]!.inference_stats.fail.count;
      assert.equal(failAfter - failBefore, 1);
      // With room in the queue a malformed body is parsed and rejected as usual.
      const bad = await post(agent, url, '{ nope');
      assert.equal(bad.status, 400);
    } finally {
      agent.destroy();
      other.destroy();
    }
  });
});
