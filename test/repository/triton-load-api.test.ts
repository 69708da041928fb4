/**
 * Bad Triton configs and the repository API's load (model control, overrides): a bad config is a
 * load error naming the file, the line and the field, and the load API answers 400 with it; the
 * model control modes decide what loads at start and whether the API may load.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseConfigFile } from '../../src/repository/config-file.js';
import type { RunningServer } from '../../src/server.js';
import { addModel, writeModel } from '../fixtures/repository.js';
import { adminHeaders, startTestServer } from '../helpers/server.js';

const GOOD = `max_batch_size: 8\ninput [ { name: "a" data_type: TYPE_FP32 dims: [ 4 ] }, { name: "b" data_type: TYPE_FP32 dims: [ 4 ] } ]\n`;

/** Each bad config, and what its error must name. */
const BAD: Record<string, { file: 'config.pbtxt' | 'config.json'; text: string; names: RegExp[] }> = {
  unknown_field: {
    file: 'config.pbtxt',
    text: `${GOOD}dynamic_batching {\n  max_queue_delay_microsecond: 100\n}\n`,
    names: [/config\.pbtxt line 4/, /dynamic_batching\.max_queue_delay_microsecond/, /unknown field/],
  },
  wrong_type: {
    file: 'config.pbtxt',
    text: `max_batch_size: "eight"\n`,
    names: [/config\.pbtxt line 1/, /max_batch_size/, /expected an integer/],
  },
  gpu_kind: {
    file: 'config.pbtxt',
    text: `${GOOD}instance_group [\n  { count: 1, kind: KIND_GPU }\n]\n`,
    names: [/config\.pbtxt line 4/, /instance_group\.0\.kind/, /KIND_GPU needs a GPU/],
  },
  json_unknown: {
    file: 'config.json',
    text: JSON.stringify({ max_batch_size: 8, instance_groups: [{ count: 1 }] }),
    names: [/config\.json/, /instance_groups/, /unknown field/],
  },
  missing_label_file: {
    file: 'config.pbtxt',
    text: `${GOOD}output [ { name: "sum" data_type: TYPE_FP32 dims: [ 4 ] label_filename: "labels.txt" } ]\n`,
    names: [/output\.0\.label_filename/, /labels\.txt/],
  },
  missing_model_file: {
    file: 'config.pbtxt',
    text: `${GOOD}default_model_filename: "other.onnx"\n`,
    names: [/default_model_filename/, /other\.onnx/],
  },
};

describe('bad Triton configs', () => {
  const gpu = process.env.INFERD_ASSUME_NO_GPU;
  before(() => {
    process.env.INFERD_ASSUME_NO_GPU = '1';
  });
  after(() => {
    if (gpu === undefined) delete process.env.INFERD_ASSUME_NO_GPU;
    else process.env.INFERD_ASSUME_NO_GPU = gpu;
  });

  it('are refused when read, naming the file, the line and the field', () => {
    for (const [model, bad] of Object.entries(BAD)) {
      if (model.startsWith('missing_')) continue; // found only when the version folder is read
      assert.throws(
        () => parseConfigFile({ name: bad.file, text: bad.text }, model),
        (err: Error) =>
          bad.names.every((re) => re.test(err.message)) || assert.fail(`${model}: ${err.message}`),
      );
    }
  });

  it('KIND_GPU on a CPU machine runs on the CPU only when asked', () => {
    const text = `${BAD.gpu_kind!.text}parameters { key: "cpu_fallback" value: { string_value: "true" } }\n`;
    const cfg = parseConfigFile({ name: 'config.pbtxt', text }, 'm');
    assert.equal(cfg.instance_group![0]!.kind, 'KIND_CPU');
  });

  describe('over the load API (explicit mode)', () => {
    let server: RunningServer;
    let root: string;
    before(async () => {
      root = mkdtempSync(join(tmpdir(), 'inferd-triton-bad-'));
      for (const [model, bad] of Object.entries(BAD)) {
        writeModel(root, model, 1, addModel());
        writeFileSync(join(root, model, bad.file), bad.text);
      }
      writeModel(root, 'good', 1, addModel());
      writeFileSync(join(root, 'good', 'config.pbtxt'), GOOD);
      server = await startTestServer(root, { modelControlMode: 'explicit' });
    });
    after(async () => {
      await server.close();
      rmSync(root, { recursive: true, force: true });
    });

    const load = (model: string, body?: unknown) =>
      fetch(`${server.httpUrl}/v2/repository/models/${model}/load`, {
        method: 'POST',
        headers: adminHeaders({ 'content-type': 'application/json' }),
        body: body === undefined ? undefined : JSON.stringify(body),
      });

    it('explicit mode with no --load-model loads nothing at start', async () => {
      assert.notEqual((await fetch(`${server.httpUrl}/v2/models/good/ready`)).status, 200);
    });

    it('a good config loads: 200', async () => {
      assert.equal((await load('good')).status, 200);
      assert.equal((await fetch(`${server.httpUrl}/v2/models/good/ready`)).status, 200);
    });

    it('each bad config answers 400 naming the file and the field, without server paths', async () => {
      for (const [model, bad] of Object.entries(BAD)) {
        const res = await load(model);
        const body = (await res.json()) as { error: string; code: string };
        assert.equal(res.status, 400, `${model}: ${JSON.stringify(body)}`);
        for (const re of bad.names) assert.match(body.error, re, model);
        assert.ok(!body.error.includes(root), `${model} leaks the repository path: ${body.error}`);
      }
    });

    it('an unknown model is 404 without server paths', async () => {
      const res = await load('no_such_model');
      const text = await res.text();
      assert.equal(res.status, 404);
      assert.ok(!text.includes(root), text);
      // Triton's wording, which its clients look for (simple_*_model_control.py).
      assert.match(text, /failed to load 'no_such_model', failed to poll from model repository/);
    });

    it("an override config in protobuf's JSON mapping: integers may be strings, as Triton's clients send", async () => {
      assert.equal((await load('good', { parameters: { config: '{"max_batch_size":"16"}' } })).status, 200);
      const cfg = (await (await fetch(`${server.httpUrl}/v2/models/good/config`)).json()) as {
        max_batch_size: number;
      };
      assert.equal(cfg.max_batch_size, 16);
      const bad = await load('good', {
        parameters: { config: '"parameters": {"config": {{"max_batch_size": "16"}}}' },
      });
      assert.equal(bad.status, 400);
      assert.match(
        await bad.text(),
        /failed to load 'good', failed to poll from model repository: .*not valid JSON/,
      );
    });

    it('loads with an override config and files into a staging folder, not the repository', async () => {
      const onnx = Buffer.from(addModel(100)).toString('base64');
      const config = JSON.stringify({
        max_batch_size: 2,
        input: [
          { name: 'a', data_type: 'TYPE_FP32', dims: [4] },
          { name: 'b', data_type: 'TYPE_FP32', dims: [4] },
        ],
      });
      const res = await load('uploaded', { parameters: { config, 'file:1/model.onnx': onnx } });
      assert.equal(res.status, 200, await res.text());
      const cfg = (await (await fetch(`${server.httpUrl}/v2/models/uploaded/config`)).json()) as Record<
        string,
        unknown
      >;
      assert.equal(cfg.max_batch_size, 2);
      const infer = await fetch(`${server.httpUrl}/v2/models/uploaded/infer`, {
        method: 'POST',
        body: JSON.stringify({
          inputs: [
            { name: 'a', datatype: 'FP32', shape: [1, 4], data: [1, 2, 3, 4] },
            { name: 'b', datatype: 'FP32', shape: [1, 4], data: [0, 0, 0, 0] },
          ],
        }),
      });
      const out = (await infer.json()) as { outputs: Array<{ name: string; data: number[] }> };
      assert.deepEqual(out.outputs.find((o) => o.name === 'sum')!.data, [101, 102, 103, 104]);
      // Nothing was written into the user's repository.
      const index = (await (
        await fetch(`${server.httpUrl}/v2/repository/index`, { method: 'POST', headers: adminHeaders() })
      ).json()) as Array<{ name: string }>;
      assert.ok(index.some((e) => e.name === 'uploaded'));
      assert.equal(existsSync(join(root, 'uploaded')), false);
    });

    it('refuses file paths that leave the model folder, and files without a config', async () => {
      for (const key of ['file:../evil.onnx', 'file:/etc/passwd', 'file:1/../../x', 'file:']) {
        const res = await load('evil', { parameters: { config: '{}', [key]: 'AAAA' } });
        assert.equal(res.status, 400, key);
      }
      const res = await load('evil', { parameters: { 'file:1/model.onnx': 'AAAA' } });
      assert.equal(res.status, 400);
      assert.match(((await res.json()) as { error: string }).error, /needs a 'config'/);
    });
  });
});

describe('model control modes', () => {
  let root: string;
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'inferd-control-'));
    writeModel(root, 'one', 1, addModel());
    writeModel(root, 'two', 1, addModel());
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('none: every model loads, the load API is refused with 400', async () => {
    const server = await startTestServer(root, { modelControlMode: 'none' });
    try {
      assert.equal((await fetch(`${server.httpUrl}/v2/models/two/ready`)).status, 200);
      const res = await fetch(`${server.httpUrl}/v2/repository/models/one/load`, {
        method: 'POST',
        headers: adminHeaders(),
      });
      assert.equal(res.status, 400);
      assert.equal(((await res.json()) as { code: string }).code, 'model_control_disabled');
    } finally {
      await server.close();
    }
  });

  it('explicit with --load-model loads only those at start', async () => {
    const server = await startTestServer(root, { modelControlMode: 'explicit', loadModel: ['one'] });
    try {
      assert.equal((await fetch(`${server.httpUrl}/v2/models/one/ready`)).status, 200);
      assert.notEqual((await fetch(`${server.httpUrl}/v2/models/two/ready`)).status, 200);
    } finally {
      await server.close();
    }
  });

  it('poll: a model added to the repository is loaded by a later poll', async () => {
    const server = await startTestServer(root, { modelControlMode: 'poll', repositoryPollSecs: 1 });
    try {
      writeModel(root, 'three', 1, addModel());
      let status = 0;
      for (let i = 0; i < 120 && status !== 200; i++) {
        await new Promise((r) => setTimeout(r, 500));
        status = (await fetch(`${server.httpUrl}/v2/models/three/ready`)).status;
      }
      assert.equal(status, 200);
    } finally {
      await server.close();
    }
  });
});
