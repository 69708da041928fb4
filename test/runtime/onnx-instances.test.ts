/**
 * ONNX Runtime instances as the scheduler sees them: inference threads run below the event loop's
 * priority when asked (Linux SCHED_IDLE or nice; the default is normal), double buffering (`pipeline_depth: 2`) answers every request with its own
 * result, in order, and one keep-alive connection shares one cancellation signal without leaking
 * listeners across its requests.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../src/server.js';
import { addModel, writeModel } from '../fixtures/repository.js';
import { adminHeaders, startTestServer } from '../helpers/server.js';

/** Nice value and scheduling policy of a thread (Linux /proc stat fields 19 and 41; 5 = SCHED_IDLE). */
function schedOf(statPath: string): { nice: number; policy: number } {
  const stat = readFileSync(statPath, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { nice: Number(f[16]), policy: Number(f[38]) };
}
const SCHED_IDLE = 5;
const threads = () => readdirSync('/proc/self/task').map((tid) => schedOf(`/proc/self/task/${tid}/stat`));

function post(
  agent: http.Agent,
  url: string,
  a: number[],
  b: number[],
): Promise<{ status: number; body: string }> {
  const body = JSON.stringify({
    inputs: [
      { name: 'a', shape: [1, 4], datatype: 'FP32', data: a },
      { name: 'b', shape: [1, 4], datatype: 'FP32', data: b },
    ],
  });
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: 'POST', agent, headers: { 'content-type': 'application/json' } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('ONNX Runtime instances', () => {
  let server: RunningServer;
  let base: string;
  before(async () => {
    const root = mkdtempSync(join(tmpdir(), 'inferd-instances-'));
    // No dynamic batching: each request is its own execution, so double buffering is exercised.
    writeModel(root, 'piped', 1, addModel(), {
      max_batch_size: 8,
      onnxruntime: { pipeline_depth: 2, intra_op_num_threads: 1 },
    });
    writeModel(root, 'plain', 1, addModel(), { max_batch_size: 8, onnxruntime: { thread_priority: 'low' } });
    writeModel(root, 'idle', 1, addModel(), { max_batch_size: 8, onnxruntime: { thread_priority: 'idle' } });
    server = await startTestServer(root);
    base = server.httpUrl;
  });
  after(async () => server.close());

  it(
    'runs inference threads below the event loop when asked: SCHED_IDLE when idle, nice 10 when low',
    {
      skip: process.platform !== 'linux',
    },
    () => {
      const all = threads();
      assert.ok(
        all.some((t) => t.policy === SCHED_IDLE || t.nice === 19),
        `an idle-priority thread: ${JSON.stringify(all)}`,
      );
      assert.ok(
        all.some((t) => t.nice === 10),
        `a nice-10 thread: ${JSON.stringify(all)}`,
      );
      assert.deepEqual(
        schedOf('/proc/self/stat'),
        { nice: 0, policy: 0 },
        'the event loop keeps its priority',
      );
    },
  );

  it('with pipeline_depth 2 every concurrent request gets its own answer', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    const answers = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        post(agent, `${base}/v2/models/piped/infer`, [i, 1, 2, 3], [1, 1, 1, 1]),
      ),
    );
    agent.destroy();
    answers.forEach((r, i) => {
      assert.equal(r.status, 200, r.body);
      const out = JSON.parse(r.body) as { outputs: Array<{ data: number[] }> };
      assert.deepEqual(out.outputs[0]!.data, [i + 1, 2, 3, 4]);
    });
    const stats = (await (
      await fetch(`${base}/v2/models/piped/stats`, { headers: adminHeaders() })
    ).json()) as {
      model_stats: Array<{ inference_count: number; execution_count: number }>;
    };
    assert.equal(stats.model_stats[0]!.inference_count, 24);
  });

  it('many requests on one keep-alive connection leave no abort listeners behind', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (let i = 0; i < 40; i++) {
        const r = await post(agent, `${base}/v2/models/plain/infer`, [i, 0, 0, 0], [0, 0, 0, 0]);
        assert.equal(r.status, 200, r.body);
      }
    } finally {
      agent.destroy();
      process.off('warning', onWarning);
    }
    assert.deepEqual(
      warnings.filter((w) => w.name === 'MaxListenersExceededWarning').map((w) => w.message),
      [],
    );
  });
});
