/**
 * ONNX Runtime's run failures through the real server (issue 23, finding 10b). A request that
 * matches the model's declared inputs can still carry sizes the graph cannot compute with; that is
 * the client's to fix: 400 invalid_input naming the input, the shape given and the shape declared,
 * never ORT's source paths or C++ text. A genuine backend fault stays a 500 backend_error, with
 * ORT's text in the server log only.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { loadSettings } from '../../src/config.js';
import { buildModel } from '../../src/training/graph-builder.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { addModel, writeModel } from '../fixtures/repository.js';

/** ORT's internals as they appear in its messages. */
const ORT_INTERNALS =
  /onnxruntime_src|onnxruntime::|\.(cc|h|cpp):\d|was false|ONNXRuntimeError|Status Message/;

/** y = x + [1, 2, 3, 4]: declared x [N, D], but only D = 4 (or 1) broadcasts. */
function needsFour(): Uint8Array {
  return buildModel({
    inputs: [{ name: 'x', type: 'FLOAT', shape: ['N', 'D'] }],
    outputs: [{ name: 'y', type: 'FLOAT', shape: ['N', 4] }],
    initializers: [{ name: 'w', type: 'FLOAT', dims: [4], values: [1, 2, 3, 4] }],
    nodes: [{ op: 'Add', inputs: ['x', 'w'], outputs: ['y'], name: 'add_w' }],
  });
}

/** y = zeros(shape): a shape of 10^15 elements cannot be allocated (a fault of the backend). */
function zerosOfShape(): Uint8Array {
  return buildModel({
    inputs: [{ name: 'shape', type: 'INT64', shape: [3] }],
    outputs: [{ name: 'y', type: 'FLOAT', shape: ['a', 'b', 'c'] }],
    nodes: [{ op: 'ConstantOfShape', inputs: ['shape'], outputs: ['y'] }],
  });
}

describe('ONNX Runtime run failures', () => {
  let server: RunningServer;
  let repo: string;
  let dataDir: string;
  const logLines: string[] = [];

  before(async () => {
    repo = mkdtempSync(join(tmpdir(), 'inferd-repo-'));
    dataDir = mkdtempSync(join(tmpdir(), 'inferd-data-'));
    writeModel(repo, 'needs4', 1, needsFour(), {});
    // Declared looser than the graph: the config says any width, the model needs 4.
    writeModel(repo, 'add_loose', 1, addModel(), {
      max_batch_size: 8,
      input: [
        { name: 'a', data_type: 'TYPE_FP32', dims: [-1] },
        { name: 'b', data_type: 'TYPE_FP32', dims: [-1] },
      ],
    });
    writeModel(repo, 'zeros', 1, zerosOfShape(), {});
    const settings = loadSettings(
      {
        modelRepository: repo,
        host: '127.0.0.1',
        httpPort: 0,
        grpcPort: 0,
        dataDir,
        logLevel: 'error',
        auth: 'off',
      },
      {},
    );
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        logLines.push(chunk.toString());
        done();
      },
    });
    server = await startServer(settings, { logger: pino({ level: 'error' }, sink) });
  });
  after(async () => {
    await server.close();
    rmSync(repo, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  });

  const infer = async (model: string, inputs: unknown[]) => {
    const res = await fetch(`${server.httpUrl}/v2/models/${model}/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputs }),
    });
    return { status: res.status, body: (await res.json()) as { error: string; code: string } };
  };

  it('a size the graph cannot compute with is 400 invalid_input naming the input and both shapes', async () => {
    const ok = await infer('needs4', [{ name: 'x', datatype: 'FP32', shape: [1, 4], data: [0, 0, 0, 0] }]);
    assert.equal(ok.status, 200);
    const { status, body } = await infer('needs4', [
      { name: 'x', datatype: 'FP32', shape: [1, 3], data: [0, 0, 0] },
    ]);
    assert.equal(status, 400, JSON.stringify(body));
    assert.equal(body.code, 'invalid_input');
    assert.match(body.error, /model 'needs4' cannot compute with input 'x' \[1, 3\] \(declared \[-1, -1\]\)/);
    assert.match(body.error, /Add node 'add_w'/);
    assert.doesNotMatch(body.error, ORT_INTERNALS);
  });

  it("ORT's own check of the feeds is 400 invalid_input naming the dimension", async () => {
    const { status, body } = await infer('add_loose', [
      { name: 'a', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] },
      { name: 'b', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] },
    ]);
    assert.equal(status, 400, JSON.stringify(body));
    assert.equal(body.code, 'invalid_input');
    assert.match(
      body.error,
      /input 'a' \[1, 3\] \(declared \[-1, -1\]\) does not fit model 'add_loose': dim 1 is 3 where the model needs 4/,
    );
    assert.doesNotMatch(body.error, ORT_INTERNALS);
  });

  it('a fault of the backend is 500 backend_error with no internals; the detail is logged', async () => {
    const { status, body } = await infer('zeros', [
      { name: 'shape', datatype: 'INT64', shape: [3], data: [100000, 100000, 100000] },
    ]);
    assert.equal(status, 500, JSON.stringify(body));
    assert.equal(body.code, 'backend_error');
    assert.equal(body.error, "model 'zeros' failed while computing (the details are in the server log)");
    assert.ok(
      logLines.some((l) => /Failed to allocate memory/.test(l)),
      `server log: ${logLines.join('')}`,
    );
    // The server still serves.
    const ok = await infer('zeros', [{ name: 'shape', datatype: 'INT64', shape: [3], data: [1, 2, 2] }]);
    assert.equal(ok.status, 200);
  });
});
