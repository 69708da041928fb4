/**
 * Triton's binary tensor extension beyond the shared conformance cases: raw binary requests,
 * mixed JSON/binary inputs and outputs, per-output binary_data, and malformed framing.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { decodeBinaryResponse } from '../../src/oip-client/rest-binary.js';
import type { RunningServer } from '../../src/server.js';
import { makeFixtureRepository } from '../fixtures/repository.js';
import { startTestServer } from '../helpers/server.js';

function framed(header: object, ...binary: Buffer[]): { body: Buffer; headerLength: number } {
  const json = Buffer.from(JSON.stringify(header));
  return { body: Buffer.concat([json, ...binary]), headerLength: json.length };
}

const f32 = (values: number[]): Buffer => Buffer.from(Float32Array.from(values).buffer);

describe('REST binary tensor extension extras', () => {
  let server: RunningServer;
  let repo: string;
  const post = (path: string, body: Buffer, headers: Record<string, string>) =>
    fetch(`${server.httpUrl}${path}`, { method: 'POST', body, headers });

  before(async () => {
    repo = makeFixtureRepository();
    server = await startTestServer(repo);
  });
  after(async () => {
    await server?.close();
    rmSync(repo, { recursive: true, force: true });
  });

  it('server metadata advertises binary_tensor_data', async () => {
    const md = (await (await fetch(`${server.httpUrl}/v2`)).json()) as { extensions: string[] };
    assert.ok(md.extensions.includes('binary_tensor_data'));
  });

  it('raw binary request (header length 0): the body is the single BYTES input; outputs come back binary', async () => {
    const res = await post('/v2/models/upper/infer', Buffer.from('Grüne Äpfel'), {
      'content-type': 'application/octet-stream',
      'inference-header-content-length': '0',
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/octet-stream');
    const headerLength = Number(res.headers.get('inference-header-content-length'));
    const decoded = decodeBinaryResponse(Buffer.from(await res.arrayBuffer()), headerLength);
    assert.deepEqual(decoded.outputs[0]!.shape, [1]);
    assert.equal(Buffer.from((decoded.outputs[0]!.data as Uint8Array[])[0]!).toString(), 'GRÜNE ÄPFEL');
  });

  it('raw binary request on a model with two inputs is refused with a hint', async () => {
    const res = await post('/v2/models/add/infer', f32([1, 2, 3, 4]), {
      'inference-header-content-length': '0',
    });
    assert.equal(res.status, 400);
    const body = (await res.json()) as { code: string; error: string };
    assert.equal(body.code, 'invalid_request');
    assert.match(body.error, /exactly one input/);
  });

  it('mixed inputs (binary a, JSON b) and binary only for the output that asks', async () => {
    const { body, headerLength } = framed(
      {
        inputs: [
          { name: 'a', shape: [1, 4], datatype: 'FP32', parameters: { binary_data_size: 16 } },
          { name: 'b', shape: [1, 4], datatype: 'FP32', data: [1, 1, 1, 1] },
        ],
        outputs: [{ name: 'sum', parameters: { binary_data: true } }, { name: 'diff' }],
      },
      f32([1, 2, 3, 4]),
    );
    const res = await post('/v2/models/add/infer', body, {
      'inference-header-content-length': String(headerLength),
    });
    assert.equal(res.status, 200);
    const rawBody = Buffer.from(await res.arrayBuffer());
    const hl = Number(res.headers.get('inference-header-content-length'));
    const header = JSON.parse(rawBody.subarray(0, hl).toString()) as {
      outputs: Array<{ name: string; data?: number[]; parameters?: { binary_data_size: number } }>;
    };
    assert.deepEqual(header.outputs.find((o) => o.name === 'diff')!.data, [0, 1, 2, 3]);
    assert.equal(header.outputs.find((o) => o.name === 'sum')!.parameters!.binary_data_size, 16);
    assert.deepEqual(
      Array.from(new Float32Array(Uint8Array.from(rawBody.subarray(hl)).buffer)),
      [2, 3, 4, 5],
    );
  });

  it('a JSON request can ask for every output in binary with binary_data_output', async () => {
    const body = Buffer.from(
      JSON.stringify({
        parameters: { binary_data_output: true },
        inputs: [
          { name: 'a', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] },
          { name: 'b', shape: [1, 4], datatype: 'FP32', data: [1, 1, 1, 1] },
        ],
      }),
    );
    const res = await post('/v2/models/add/infer', body, { 'content-type': 'application/json' });
    assert.equal(res.headers.get('content-type'), 'application/octet-stream');
    const decoded = decodeBinaryResponse(
      Buffer.from(await res.arrayBuffer()),
      Number(res.headers.get('inference-header-content-length')),
    );
    assert.deepEqual(
      Array.from(decoded.outputs.find((o) => o.name === 'sum')!.data as Float32Array),
      [2, 3, 4, 5],
    );
  });

  it('malformed framing is a 400 that says what is wrong', async () => {
    const header = {
      inputs: [{ name: 'a', shape: [1, 4], datatype: 'FP32', parameters: { binary_data_size: 16 } }],
    };
    const good = framed(header, f32([1, 2, 3, 4]));
    const short = framed(header, f32([1, 2]));
    const long = framed(header, f32([1, 2, 3, 4, 5]));
    const cases: Array<[Buffer, number, RegExp]> = [
      [good.body, good.body.length + 1, /Inference-Header-Content-Length must be/],
      [short.body, short.headerLength, /only 8 bytes/],
      [long.body, long.headerLength, /after the last binary input/],
      [Buffer.from('{"inputs": [1, 2]}'), 5, /not valid JSON/],
    ];
    for (const [body, headerLength, message] of cases) {
      const res = await post('/v2/models/add/infer', body, {
        'inference-header-content-length': String(headerLength),
      });
      assert.equal(res.status, 400, String(message));
      const err = (await res.json()) as { error: string; code: string };
      assert.match(err.error, message);
    }
  });
});
