/**
 * The SageMaker real-time endpoint contract against the real CLI, run as SageMaker runs it:
 * `inferd serve` and nothing else on the command line, the port from SAGEMAKER_BIND_TO_PORT, the
 * models from SageMaker's model folder (a temp dir standing in for /opt/ml/model through
 * INFERD_SAGEMAKER_MODEL_DIR), GET /ping and POST /invocations with the content types SageMaker
 * users send, and the multi-model endpoints' X-Amzn-SageMaker-Target-Model header.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../src/server.js';
import { rawConnect } from '../helpers/raw-http.js';
import { startTestServer } from '../helpers/server.js';
import { freePort } from '../helpers/spawn.js';
import { cerParts } from '../ocr/helpers/render.js';
import {
  makePlatformRepository,
  postJson,
  spawnPlatformServer,
  tabularScore,
  textImage,
  type PlatformServer,
} from './helpers.js';

type Oip = { model_name: string; outputs: Array<{ name: string; shape: number[]; data: unknown[] }> };

describe('SageMaker: docker run IMAGE serve', () => {
  let repo: string;
  let server: PlatformServer;
  let invocations: string;

  before(async () => {
    repo = makePlatformRepository(['tabular', 'spam', 'ocr']);
    const port = await freePort();
    server = await spawnPlatformServer(
      ['serve'],
      {
        SAGEMAKER_BIND_TO_PORT: String(port),
        INFERD_SAGEMAKER_MODEL_DIR: repo,
        INFERD_DEFAULT_MODEL: 'tabular',
        // SageMaker authenticates callers (IAM): no API keys of ours on inference.
        INFERD_V2_AUTH: 'off',
        INFERD_MAX_BODY_BYTES: String(4 * 1024 * 1024),
      },
      port,
      '/ping',
    );
    invocations = `${server.url}/invocations`;
  });
  after(async () => {
    await server?.stop();
    if (repo) rmSync(repo, { recursive: true, force: true });
  });

  it('GET /ping is 200 when ready, with an empty body; the models came from the SageMaker folder', async () => {
    const ping = await fetch(`${server.url}/ping`);
    assert.equal(ping.status, 200);
    assert.equal(await ping.text(), '');
    const meta = await fetch(`${server.url}/v2/models/tabular`);
    assert.equal(meta.status, 200);
  });

  it('POST /invocations, application/json: an Open Inference Protocol request to the default model', async () => {
    const rows = [
      [1, 2, 3, 4],
      [0.5, 0, -1, 2],
    ];
    const { status, body } = await postJson(invocations, {
      inputs: [{ name: 'x', shape: [2, 4], datatype: 'FP32', data: rows }],
    });
    assert.equal(status, 200, JSON.stringify(body));
    const res = body as unknown as Oip;
    assert.equal(res.model_name, 'tabular');
    assert.deepEqual(res.outputs[0]!.shape, [2, 1]);
    assert.deepEqual(res.outputs[0]!.data, rows.map(tabularScore));
  });

  it('POST /invocations, text/csv: each line is a row of the model input', async () => {
    const rows = [
      [1, 2, 3, 4],
      [4, 3, 2, 1],
      [0.25, -2, 10, 1e3],
    ];
    const csv = rows.map((r) => r.join(',')).join('\r\n') + '\n';
    const res = await fetch(invocations, {
      method: 'POST',
      headers: { 'content-type': 'text/csv' },
      body: csv,
    });
    const body = (await res.json()) as Oip;
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.deepEqual(body.outputs[0]!.shape, [3, 1]);
    assert.deepEqual(body.outputs[0]!.data, rows.map(tabularScore));
  });

  it('text/csv that does not map: ragged rows and non-numbers are 400, a text model 415', async () => {
    const post = (body: string, headers: Record<string, string> = {}) =>
      fetch(invocations, { method: 'POST', headers: { 'content-type': 'text/csv', ...headers }, body });
    const ragged = await post('1,2,3,4\n1,2,3\n');
    assert.equal(ragged.status, 400);
    const r = (await ragged.json()) as { code: string; error: string };
    assert.equal(r.code, 'invalid_input');
    assert.match(r.error, /line 2 has 3 fields/);
    const header = await post('a,b,c,d\n1,2,3,4\n');
    assert.equal(header.status, 400);
    assert.match(((await header.json()) as { error: string }).error, /line 1, column 1: 'a' is not a number/);
    const wide = await post('1,2,3,4,5\n');
    assert.equal(wide.status, 400);
    assert.equal(((await wide.json()) as { code: string }).code, 'shape_mismatch');
    const text = await post('1,2\n', { 'x-amzn-sagemaker-target-model': 'spam.tar.gz' });
    assert.equal(text.status, 415);
    const t = (await text.json()) as { code: string; error: string };
    assert.equal(t.code, 'unsupported_media_type');
    assert.match(t.error, /one numeric input of rank 2/);
  });

  it('X-Amzn-SageMaker-Target-Model picks the model: spam.tar.gz and spam/ are the model spam', async () => {
    for (const target of ['spam.tar.gz', 'spam/', 'team-a/spam.tgz']) {
      const { status, body } = await postJson(
        invocations,
        { inputs: [{ name: 'text', shape: [2], datatype: 'BYTES', data: ['buy now', 'see you at lunch'] }] },
        { 'x-amzn-sagemaker-target-model': target },
      );
      assert.equal(status, 200, `${target}: ${JSON.stringify(body)}`);
      const res = body as unknown as Oip;
      assert.equal(res.model_name, 'spam');
      assert.deepEqual(res.outputs.find((o) => o.name === 'label')!.data, ['spam', 'ham']);
    }
    const unknown = await postJson(
      invocations,
      { inputs: [] },
      { 'x-amzn-sagemaker-target-model': 'nope.tar.gz' },
    );
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.code, 'model_not_found');
    const empty = await postJson(invocations, { inputs: [] }, { 'x-amzn-sagemaker-target-model': '/' });
    assert.equal(empty.status, 400);
    assert.equal(empty.body.code, 'invalid_request');
  });

  it('raw image bytes (image/png, image/jpeg, application/octet-stream) go to the OCR model', async () => {
    const cases: Array<['png' | 'jpeg', string]> = [
      ['png', 'image/png'],
      ['jpeg', 'image/jpeg'],
      ['png', 'application/octet-stream'],
    ];
    for (const [format, type] of cases) {
      const image = await textImage('Invoice 2041 paid', format);
      const res = await fetch(invocations, {
        method: 'POST',
        headers: { 'content-type': type, 'x-amzn-sagemaker-target-model': 'ocr.tar.gz' },
        body: image,
      });
      const body = (await res.json()) as Oip;
      assert.equal(res.status, 200, `${type}: ${JSON.stringify(body)}`);
      assert.equal(body.model_name, 'ocr');
      const text = body.outputs.find((o) => o.name === 'text')!.data[0] as string;
      assert.ok(cerParts('Invoice 2041 paid', text).edits <= 1, `${type}: read '${text}'`);
    }
    // Not an image: the pipeline's decoder refuses it by its magic bytes.
    const junk = await fetch(invocations, {
      method: 'POST',
      headers: { 'content-type': 'image/png', 'x-amzn-sagemaker-target-model': 'ocr' },
      body: 'not an image at all',
    });
    assert.equal(junk.status, 400);
    assert.equal(((await junk.json()) as { code: string }).code, 'invalid_image');
    // A model without an image input refuses image bytes.
    const tabular = await fetch(invocations, {
      method: 'POST',
      headers: { 'content-type': 'image/png' },
      body: await textImage('x', 'png'),
    });
    assert.equal(tabular.status, 415);
    assert.equal(((await tabular.json()) as { code: string }).code, 'unsupported_media_type');
  });

  it('a content type /invocations does not read is 415 unsupported_media_type, naming what to send', async () => {
    const res = await fetch(invocations, {
      method: 'POST',
      headers: { 'content-type': 'application/x-recordio-protobuf' },
      body: 'x',
    });
    assert.equal(res.status, 415);
    const body = (await res.json()) as { code: string; error: string };
    assert.equal(body.code, 'unsupported_media_type');
    assert.match(body.error, /text\/csv/);
  });

  it('bounds and metrics as on /v2: a body over --max-body-bytes is 413; answers count per model', async () => {
    // Refused from Content-Length before the body is read (a raw socket: fetch would keep sending).
    const conn = await rawConnect(server.url);
    conn.write(
      `POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: ${5 * 1024 * 1024}\r\n\r\n1,2,3,4\n`,
    );
    const res = await conn.response(5000);
    conn.socket.destroy();
    assert.equal(res.status, 413);
    assert.equal((JSON.parse(res.body) as { code: string }).code, 'payload_too_large');
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(metrics, /inferd_request_success_total\{model="tabular",version="1"\} [1-9]/);
  });
});

describe('SageMaker: model choice and element bounds (in-process server)', () => {
  let repo: string;
  let server: RunningServer;
  before(async () => {
    repo = makePlatformRepository(['tabular', 'spam']);
    server = await startTestServer(repo, { maxRequestElements: 8, vertexPredictRoute: '/predict' });
  });
  after(async () => {
    await server?.close();
    if (repo) rmSync(repo, { recursive: true, force: true });
  });

  it('several models and no --default-model: 400 invalid_request naming the models and the ways to choose', async () => {
    for (const path of ['/invocations', '/predict']) {
      const { status, body } = await postJson(server.httpUrl + path, { instances: [] });
      assert.equal(status, 400, path);
      assert.equal(body.code, 'invalid_request');
      assert.match(body.error as string, /2 models \((spam, tabular|tabular, spam)\).*--default-model/);
    }
  });

  it('CSV fields are counted against --max-request-elements before any is parsed: 413 too_many_elements', async () => {
    const res = await fetch(server.httpUrl + '/invocations', {
      method: 'POST',
      headers: { 'content-type': 'text/csv', 'x-amzn-sagemaker-target-model': 'tabular' },
      body: '1,2,3,4\n5,6,7,8\n9,10,11,12\n',
    });
    assert.equal(res.status, 413);
    const body = (await res.json()) as { code: string; error: string };
    assert.equal(body.code, 'too_many_elements');
    assert.match(body.error, /holds 12 tensor elements/);
    const ok = await fetch(server.httpUrl + '/invocations', {
      method: 'POST',
      headers: { 'content-type': 'text/csv', 'x-amzn-sagemaker-target-model': 'tabular' },
      body: '1,2,3,4\n5,6,7,8\n',
    });
    assert.equal(ok.status, 200);
  });
});
