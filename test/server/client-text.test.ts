/**
 * Issue 23, finding 6: client-supplied text is bounded in logs and error messages. 11,000 gRPC
 * stream requests with 100 KB model names wrote 1.1 GB of log in 10 s, since the access line and
 * the error copied the name. Also (low item): a client's own deadline passing (504) is an answer,
 * logged as an ordinary request line, not as a server error with a stack.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { pino } from 'pino';
import { loadSettings } from '../../src/config.js';
import { GrpcClient } from '../../src/oip-client/grpc.js';
import { encodeInferRequest } from '../../src/protocol/grpc/infer-codec.js';
import type { WireStreamResponse } from '../../src/protocol/grpc/wire-types.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { makeFixtureRepository, slowModel, writeModel } from '../fixtures/repository.js';
import { rawCall } from '../protocol/grpc-helpers.js';
import { deserialize, frame, serialize, unframe } from '../protocol/grpc-raw.js';
import { f32 } from '../protocol/tensors.js';
import { within } from '../helpers/raw-http.js';

/** What a client may get back, and what one request may add to the log. */
const BODY_BOUND = 1024;
const LINE_BOUND = 2048;

describe('client text in logs and errors', () => {
  let server: RunningServer;
  let client: GrpcClient;
  let repo: string;
  let dataDir: string;
  const lines: string[] = [];
  const huge = 'm'.repeat(100_000);

  before(async () => {
    repo = makeFixtureRepository();
    writeModel(repo, 'busy', 1, slowModel(24), { max_batch_size: 0 });
    dataDir = mkdtempSync(join(tmpdir(), 'inferd-data-'));
    const settings = loadSettings(
      { modelRepository: repo, host: '127.0.0.1', httpPort: 0, grpcPort: 0, auth: 'off', dataDir },
      {},
    );
    const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(s) });
    server = await startServer(settings, { logger });
    client = new GrpcClient(server.grpcUrl);
  });
  after(async () => {
    await client?.close();
    await server?.close();
    rmSync(repo, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** The log lines written while `fn` ran. */
  async function logged(fn: () => Promise<void>): Promise<string[]> {
    const from = lines.length;
    await fn();
    await new Promise((r) => setTimeout(r, 50)); // pino writes synchronously; let the handlers finish
    return lines.slice(from);
  }

  function bounded(out: string[]): void {
    assert.ok(out.length > 0, 'the request was logged');
    for (const l of out)
      assert.ok(l.length < LINE_BOUND, `a ${l.length}-character log line: ${l.slice(0, 200)}`);
  }

  it('gRPC ModelInfer with a 100 KB model_name: a short error and a short log line', async () => {
    const out = await logged(async () => {
      const body = encodeInferRequest({ modelName: huge, inputs: [f32('a', [1, 4], [1, 2, 3, 4])] }, 'raw');
      const { err } = await rawCall(client.stub, 'ModelInfer', body, { deadline: Date.now() + 10_000 });
      assert.equal(err?.code, grpc.status.NOT_FOUND);
      assert.ok(err.details.length < BODY_BOUND, `details of ${err.details.length} characters`);
      assert.match(err.details, /Request for unknown model: 'm+…\(\+\d+ chars\)' is not found/);
    });
    bounded(out);
  });

  it('gRPC ModelStreamInfer with a 100 KB model_name: a short error response and log line', async () => {
    const out = await logged(async () => {
      const session = connect(`http://${server.grpcUrl}`);
      try {
        const req = session.request({
          ':method': 'POST',
          ':path': '/inference.GRPCInferenceService/ModelStreamInfer',
          'content-type': 'application/grpc',
          te: 'trailers',
        });
        const chunks: Buffer[] = [];
        req.on('data', (d: Buffer) => chunks.push(d));
        const closed = new Promise((r) => req.once('close', r));
        const wire = encodeInferRequest(
          { id: 'x', modelName: huge, inputs: [f32('a', [1, 4], [1, 2, 3, 4])] },
          'raw',
        );
        req.end(frame(serialize('ModelStreamInfer', wire)));
        assert.ok(await within(closed, 10_000), 'the stream ends');
        const [msg] = unframe(Buffer.concat(chunks)).map((m) =>
          deserialize<WireStreamResponse>('ModelStreamInfer', m),
        );
        assert.ok(msg!.error_message.length < BODY_BOUND);
        assert.ok(msg!.infer_response!.model_name.length < 200);
        assert.equal(msg!.infer_response!.id, 'x');
      } finally {
        session.close();
      }
    });
    bounded(out);
  });

  it('REST with a 15 KB model name in the URL: a short error body and access line', async () => {
    const name = 'm'.repeat(15_000); // URLs stop at Node's 16 KiB header limit
    const out = await logged(async () => {
      const body = JSON.stringify({ inputs: [{ name: 'a', shape: [1], datatype: 'FP32', data: [1] }] });
      const res = await fetch(`${server.httpUrl}/v2/models/${name}/infer`, { method: 'POST', body });
      const text = await res.text();
      assert.equal(res.status, 404);
      assert.ok(text.length < BODY_BOUND, `a ${text.length}-byte error body`);
    });
    bounded(out);
  });

  it('REST with a 100 KB input name: a short error body and access line', async () => {
    const out = await logged(async () => {
      const body = JSON.stringify({
        inputs: [
          { name: huge, shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] },
          { name: 'b', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] },
        ],
      });
      const res = await fetch(`${server.httpUrl}/v2/models/add/infer`, { method: 'POST', body });
      const text = await res.text();
      assert.equal(res.status, 400);
      assert.equal((JSON.parse(text) as { code: string }).code, 'unknown_input');
      assert.ok(text.length < BODY_BOUND, `a ${text.length}-byte error body`);
    });
    bounded(out);
  });

  it('a client deadline that passes (504) is logged as a request line, not as a server error', async () => {
    const out = await logged(async () => {
      const body = JSON.stringify({
        parameters: { timeout: 1 },
        inputs: [{ name: 'x', shape: [1, 1], datatype: 'FP32', data: [1] }],
      });
      const res = await fetch(`${server.httpUrl}/v2/models/busy/infer`, { method: 'POST', body });
      assert.equal(res.status, 504);
      assert.equal(((await res.json()) as { code: string }).code, 'deadline_exceeded');
    });
    const levels = out.map((l) => (JSON.parse(l) as { level: number }).level);
    assert.ok(levels.length > 0);
    assert.deepEqual(
      levels.filter((l) => l >= 50),
      [],
      'no error-level line',
    );
  });
});
