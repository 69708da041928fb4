/**
 * The spam model as a customer reaches it: served by inferd over /v2 (REST JSON and gRPC), the golden
 * scores hold within 1e-5, batches keep their order, and the served contract matches config.json.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createClient } from '../../src/oip-client/index.js';
import type { InferClient } from '../../src/oip-client/types.js';
import type { RunningServer } from '../../src/server.js';
import { startTestServer } from '../helpers/server.js';
import { MODELS, TEST_DATA } from './helpers.js';

interface Golden {
  entries: Array<{ text: string; probability: number; label: string }>;
}

const golden = JSON.parse(readFileSync(join(TEST_DATA, 'golden.json'), 'utf8')) as Golden;
const utf8 = new TextEncoder();
const text = (b: Uint8Array) => Buffer.from(b).toString('utf8');

describe('spam model served over /v2', () => {
  let server: RunningServer;
  let repo: string;
  const clients: InferClient[] = [];
  before(async () => {
    repo = mkdtempSync(join(tmpdir(), 'inferd-spam-'));
    cpSync(join(MODELS, 'spam'), join(repo, 'spam'), { recursive: true });
    server = await startTestServer(repo);
    clients.push(createClient('rest-json', server.httpUrl), createClient('grpc', server.grpcUrl));
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await server.close();
    rmSync(repo, { recursive: true, force: true });
  });

  it('golden messages give their fixed scores, in order, over every transport', async () => {
    const texts = golden.entries.map((e) => e.text);
    for (const client of clients) {
      const res = await client.infer({
        modelName: 'spam',
        inputs: [
          { name: 'text', datatype: 'BYTES', shape: [texts.length], data: texts.map((t) => utf8.encode(t)) },
        ],
      });
      const p = res.outputs.find((o) => o.name === 'probability')!;
      const label = res.outputs.find((o) => o.name === 'label')!;
      assert.deepEqual(p.shape, [texts.length]);
      golden.entries.forEach((e, i) => {
        assert.ok(
          Math.abs((p.data as Float32Array)[i]! - e.probability) <= 1e-5,
          `${client.transport} #${i}`,
        );
        assert.equal(text((label.data as Uint8Array[])[i]!), e.label);
      });
    }
  });

  it('concurrent single-message requests (batched by the scheduler) keep their own scores', async () => {
    const client = clients[0]!;
    const results = await Promise.all(
      golden.entries.map((e) =>
        client.infer({
          modelName: 'spam',
          inputs: [{ name: 'text', datatype: 'BYTES', shape: [1], data: [utf8.encode(e.text)] }],
          outputs: [{ name: 'probability' }],
        }),
      ),
    );
    results.forEach((r, i) => {
      assert.ok(Math.abs((r.outputs[0]!.data as Float32Array)[0]! - golden.entries[i]!.probability) <= 1e-5);
    });
  });

  it('the served contract matches config.json', async () => {
    const md = await clients[0]!.modelMetadata('spam');
    assert.deepEqual(md.inputs, [{ name: 'text', datatype: 'BYTES', shape: [-1] }]);
    assert.deepEqual(md.outputs, [
      { name: 'probability', datatype: 'FP32', shape: [-1] },
      { name: 'label', datatype: 'BYTES', shape: [-1] },
    ]);
  });
});
