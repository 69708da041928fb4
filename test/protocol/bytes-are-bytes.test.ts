/**
 * BYTES are bytes (issue 18): UTF-8 text, multi-byte included, reaches ONNX Runtime's string
 * tensors and comes back unchanged; bytes that are not UTF-8 are refused with a 400 naming the
 * input and element (never turned into U+FFFD) on every transport; and a JSON answer carries
 * non-UTF-8 BYTES as base64 (content_type) rather than altering them.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { BytesData, type Tensor } from '../../src/core/tensor.js';
import { createClient, type InferClient } from '../../src/oip-client/index.js';
import { decodeJsonOutputs } from '../../src/oip-client/json-response.js';
import { encodeJsonOutput, encodeJsonResponse } from '../../src/protocol/rest/json-codec.js';
import type { RunningServer } from '../../src/server.js';
import { buildModel } from '../../src/training/graph-builder.js';
import { makeFixtureRepository, writeModel } from '../fixtures/repository.js';
import { startTestServer } from '../helpers/server.js';

const bytesTensor = (name: string, items: Uint8Array[]): Tensor => ({
  name,
  datatype: 'BYTES',
  shape: [items.length],
  data: BytesData.fromArrays(items),
});

const NOT_UTF8 = Uint8Array.from([0x66, 0x6f, 0xff, 0xfe, 0x6f]); // "fo", two bytes no UTF-8 has, "o"

describe('BYTES are bytes', () => {
  let server: RunningServer;
  let repo: string;
  const clients: InferClient[] = [];

  before(async () => {
    repo = makeFixtureRepository();
    const model = buildModel({
      inputs: [{ name: 'x', type: 'STRING', shape: ['N'] }],
      outputs: [{ name: 'y', type: 'STRING', shape: ['N'] }],
      nodes: [{ op: 'Identity', inputs: ['x'], outputs: ['y'] }],
    });
    writeModel(repo, 'text_identity', 1, model);
    server = await startTestServer(repo);
    clients.push(createClient('rest-binary', server.httpUrl), createClient('grpc', server.grpcUrl));
  });
  after(async () => {
    for (const c of clients) await c.close();
    await server?.close();
    rmSync(repo, { recursive: true, force: true });
  });

  it('UTF-8 text (multi-byte, emoji) round-trips through an ONNX Runtime string tensor unchanged', async () => {
    const items = ['héllo', '日本語', '🙂', ''].map((s) => new Uint8Array(Buffer.from(s, 'utf8')));
    for (const client of clients) {
      const res = await client.infer({ modelName: 'text_identity', inputs: [bytesTensor('x', items)] });
      const y = res.outputs[0]!.data as BytesData;
      assert.deepEqual(
        y.toArrays().map((a) => Buffer.from(a).toString('hex')),
        items.map((a) => Buffer.from(a).toString('hex')),
        client.transport,
      );
    }
  });

  it('bytes that are not UTF-8 → 400 invalid_input naming the input and element, on REST binary and gRPC', async () => {
    const items = [new Uint8Array(Buffer.from('fine')), NOT_UTF8];
    for (const client of clients) {
      await assert.rejects(
        client.infer({ modelName: 'text_identity', inputs: [bytesTensor('x', items)] }),
        (e: Error & { code?: string }) => {
          assert.equal(e.code, 'invalid_input', `${client.transport}: ${e.message}`);
          assert.match(e.message, /input 'x' element 1 is not valid UTF-8/);
          return true;
        },
      );
    }
  });

  it('a JSON answer carries BYTES that are not UTF-8 as base64 (content_type), and the client reads them back', () => {
    const t = bytesTensor('raw', [NOT_UTF8, new Uint8Array(Buffer.from('ok'))]);
    const out = encodeJsonOutput(t);
    assert.deepEqual(out.parameters, { content_type: 'base64' });
    assert.deepEqual(out.data, [
      Buffer.from(NOT_UTF8).toString('base64'),
      Buffer.from('ok').toString('base64'),
    ]);
    const text = JSON.stringify(encodeJsonResponse({ modelName: 'm', modelVersion: '1', outputs: [t] }));
    const back = decodeJsonOutputs(JSON.parse(text)).outputs[0]!.data as BytesData;
    assert.deepEqual(Buffer.from(back.at(0)), Buffer.from(NOT_UTF8));
    // Text stays text: no parameters, plain strings.
    const plain = encodeJsonOutput(bytesTensor('t', [new Uint8Array(Buffer.from('héllo'))]));
    assert.equal(plain.parameters, undefined);
    assert.deepEqual(plain.data, ['héllo']);
  });
});
