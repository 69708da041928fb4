/**
 * Feedback and drift through the server (docs/lifecycle.md#feedback-and-drift): a prediction's
 * request id takes the true label; another key, an unknown id, a batched prediction and a wrong
 * label are refused with stable codes; inputs are kept only on a plan that opts in; live accuracy
 * and the drift PSI appear on /metrics.
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_PLANS, type PlanSet } from '../../src/gateway/plans.js';
import { makeApiRepository } from '../api/fixtures.js';
import { bearer, startGatewayServer, type GatewayServer } from '../api/server.js';

const PLANS: PlanSet = {
  ...DEFAULT_PLANS,
  plans: { ...DEFAULT_PLANS.plans, keeper: { ...DEFAULT_PLANS.plans['pro']!, keepInputs: true } },
};

/** A reference of short messages scored ham: long ones shift text_length well past the alert. */
const REFERENCE = {
  schema: 'inferd.drift-reference/v1',
  sample: 'test',
  input: 'text',
  features: [{ name: 'text_length', kind: 'length', edges: [50, 200], counts: [90, 9, 1] }],
  prediction: { output: 'probability', edges: [0.5], counts: [95, 5] },
};

describe('feedback and drift', () => {
  let repo: string;
  let g: GatewayServer;
  let keeper: string;
  let plain: string;
  let other: string;

  before(async () => {
    repo = makeApiRepository();
    writeFileSync(join(repo, 'spam', '1', 'drift_reference.json'), JSON.stringify(REFERENCE));
    // The labels feedback is checked against, as in models/spam/config.json.
    const cfgPath = join(repo, 'spam', 'config.json');
    writeFileSync(
      cfgPath,
      JSON.stringify({ ...JSON.parse(readFileSync(cfgPath, 'utf8')), labels: ['ham', 'spam'] }),
    );
    g = await startGatewayServer(repo, { plans: PLANS });
    keeper = (await g.admin.create({ name: 'keeper', plan: 'keeper' })).key;
    plain = (await g.admin.create({ name: 'plain', plan: 'free' })).key;
    other = (await g.admin.create({ name: 'other', plan: 'keeper' })).key;
  });
  after(async () => {
    await g?.close();
    rmSync(repo, { recursive: true, force: true });
  });

  const predict = async (key: string, body: object) => {
    const r = await fetch(`${g.url}/v1/models/spam/predict`, {
      method: 'POST',
      headers: bearer(key),
      body: JSON.stringify(body),
    });
    assert.equal(r.status, 200, await r.clone().text());
    return { id: r.headers.get('x-request-id')!, body: (await r.json()) as Record<string, unknown> };
  };
  const feedback = (key: string, body: object, model = 'spam') =>
    fetch(`${g.url}/v1/models/${model}/feedback`, {
      method: 'POST',
      headers: bearer(key),
      body: JSON.stringify(body),
    });

  it('stores the true label with the prediction; a second one replaces it', async () => {
    const p = await predict(keeper, { text: 'buy now' });
    assert.equal(p.body['label'], 'spam');
    const r = await feedback(keeper, { request_id: p.id, label: 'ham' });
    assert.equal(r.status, 201);
    assert.deepEqual(await r.json(), {
      request_id: p.id,
      model: 'spam',
      version: '1',
      label: 'ham',
      correct: false,
      replaced: false,
      input_kept: true,
    });
    const again = await feedback(keeper, { request_id: p.id, label: 'spam' });
    assert.equal(again.status, 200);
    assert.equal(((await again.json()) as { replaced: boolean }).replaced, true);
    const [ex] = await g.store.feedbackExamples('spam', 10);
    assert.equal(ex?.input, JSON.stringify({ text: 'buy now' }));
    assert.equal(ex?.label, 'spam');
  });

  it('keeps no input unless the plan opts in', async () => {
    const p = await predict(plain, { text: 'hello there' });
    const r = await feedback(plain, { request_id: p.id, label: 'ham' });
    assert.equal(r.status, 201);
    const body = (await r.json()) as { correct: boolean; input_kept: boolean };
    assert.equal(body.correct, true);
    assert.equal(body.input_kept, false);
  });

  it("is 404 prediction_not_found for another key's, an unknown or a batched prediction", async () => {
    const p = await predict(keeper, { text: 'mine' });
    const batch = await predict(keeper, { texts: ['a', 'b'] });
    for (const [key, id] of [
      [other, p.id],
      [keeper, 'never-made'],
      [keeper, batch.id],
    ] as const) {
      const r = await feedback(key, { request_id: id, label: 'ham' });
      assert.equal(r.status, 404);
      const problem = (await r.json()) as { code: string; detail: string };
      assert.equal(problem.code, 'prediction_not_found');
      assert.doesNotMatch(problem.detail, /keeper|key_/, 'names no key');
    }
    const wrongModel = await feedback(keeper, { request_id: p.id, text: 'x' }, 'ocr_echo');
    assert.equal(wrongModel.status, 404);
  });

  it('takes the corrected text for a model without labels (OCR), compared with the answer', async () => {
    const image = Buffer.from(JSON.stringify({ text: 'He11o world', lines: [] }));
    const r = await fetch(`${g.url}/v1/models/ocr_echo/predict`, {
      method: 'POST',
      headers: bearer(keeper),
      body: JSON.stringify({ image_base64: image.toString('base64') }),
    });
    assert.equal(r.status, 200);
    const id = r.headers.get('x-request-id')!;
    const f = await feedback(keeper, { request_id: id, text: 'Hello world' }, 'ocr_echo');
    assert.equal(f.status, 201);
    const body = (await f.json()) as { correct: boolean; input_kept: boolean };
    assert.equal(body.correct, false);
    assert.equal(body.input_kept, true);
    const labelled = await feedback(keeper, { request_id: id, label: 'ham' }, 'ocr_echo');
    assert.equal(labelled.status, 400, 'a model without labels takes text');
    const [ex] = (await g.store.feedbackExamples('ocr_echo', 10)).filter((e) => e.requestId === id);
    // Images are never stored: only their size and digest.
    assert.deepEqual(Object.keys(JSON.parse(ex!.input) as object), ['image']);
    assert.equal((JSON.parse(ex!.input) as { image: { bytes: number } }).image.bytes, image.length);
    assert.equal(ex!.text, 'Hello world');
  });

  it('refuses a label the model does not have, and malformed bodies, with 400', async () => {
    const p = await predict(keeper, { text: 'label check' });
    const cases: object[] = [
      { request_id: p.id, label: 'eggs' },
      { request_id: p.id },
      { request_id: p.id, label: 'ham', text: 'both' },
      { request_id: p.id, text: 'text for a labelled model' },
      { request_id: '', label: 'ham' },
      { request_id: 'x'.repeat(129), label: 'ham' },
      { request_id: p.id, label: 'ham', extra: 1 },
    ];
    for (const c of cases) {
      const r = await feedback(keeper, c);
      assert.equal(r.status, 400, JSON.stringify(c));
      assert.equal(((await r.json()) as { code: string }).code, 'invalid_request');
    }
  });

  it('is not metered as a model call', async () => {
    const before = await g.store.usageRecords({});
    const p = await predict(other, { text: 'metering' });
    await feedback(other, { request_id: p.id, label: 'ham' });
    const added = (await g.store.usageRecords({})).length - before.length;
    assert.equal(added, 1, 'only the prediction is a usage record');
  });

  it('exports live accuracy and feedback counts, and drift PSI once the window holds 100 items', async () => {
    const long = 'x'.repeat(500);
    await predict(keeper, { texts: Array.from({ length: 64 }, () => long) });
    await predict(keeper, { texts: Array.from({ length: 64 }, () => long) });
    const text = await (await fetch(`${g.url}/metrics`)).text();
    assert.match(text, /inferd_feedback_total\{model="spam",version="1",outcome="incorrect"\} 1/);
    assert.match(text, /inferd_feedback_total\{model="spam",version="1",outcome="correct"\} \d/);
    const acc = /inferd_live_accuracy\{model="spam",version="1"\} ([\d.]+)/.exec(text);
    assert.ok(acc && Number(acc[1]) > 0 && Number(acc[1]) < 1, text.slice(0, 200));
    const items = /inferd_drift_window_items\{model="spam",version="1"\} (\d+)/.exec(text);
    assert.ok(items && Number(items[1]) >= 128);
    const psi = /inferd_drift_psi\{model="spam",version="1",feature="text_length"\} ([\d.e+-]+)/.exec(text);
    assert.ok(psi && Number(psi[1]) > 0.2, `text_length PSI ${psi?.[1]} should pass the alert`);
    assert.match(text, /inferd_drift_psi\{model="spam",version="1",feature="prediction"\}/);
  });
});
