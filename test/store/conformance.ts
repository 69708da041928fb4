/**
 * The Store conformance suite: every implementation runs exactly these cases
 * (test/store/sqlite.test.ts, test/store/postgres.test.ts). None are skipped by either.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ApiKeyRecord, FeedbackRecord, PredictionRecord, Store } from '../../src/gateway/store/types.js';
import type { RolloutState } from '../../src/service/rollout/state.js';

export function key(id: string, over: Partial<ApiKeyRecord> = {}): ApiKeyRecord {
  return {
    id,
    prefix: id.slice(-8).padStart(8, 'x'),
    hash: `hash-${id}`,
    name: `name ${id}`,
    owner: 'ops@example.com',
    plan: 'free',
    scopes: null,
    createdAt: 1_700_000_000_000,
    expiresAt: null,
    revokedAt: null,
    rotatedFrom: null,
    ...over,
  };
}

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 10, 1, 23, 0, 0);

export function storeConformance(
  name: string,
  open: () => Promise<Store>,
  cleanup: (s: Store) => Promise<void>,
) {
  describe(`Store conformance: ${name}`, () => {
    let store: Store;
    before(async () => {
      store = await open();
    });
    after(async () => {
      await cleanup(store);
    });

    it('creates a key and finds it by hash and by id with every field intact', async () => {
      const k = key('key_a1', { scopes: ['spam', 'ocr'], expiresAt: T0 + DAY, rotatedFrom: 'key_old' });
      await store.createKey(k);
      assert.deepEqual(await store.findKeyByHash('hash-key_a1'), k);
      assert.deepEqual(await store.getKey('key_a1'), k);
      assert.equal(await store.findKeyByHash('nope'), undefined);
      assert.equal(await store.getKey('nope'), undefined);
    });

    it('refuses a duplicate hash', async () => {
      await store.createKey(key('key_d1', { hash: 'dup' }));
      await assert.rejects(store.createKey(key('key_d2', { hash: 'dup' })));
    });

    it('lists keys newest first', async () => {
      await store.createKey(key('key_l1', { createdAt: T0 + 10 }));
      await store.createKey(key('key_l2', { createdAt: T0 + 20 }));
      const ids = (await store.listKeys()).map((k) => k.id);
      assert.ok(ids.indexOf('key_l2') < ids.indexOf('key_l1'), ids.join(','));
    });

    it("lists one account's keys, newest first, and no one else's", async () => {
      await store.createKey(key('key_o1', { owner: 'acct-a', createdAt: T0 + 10 }));
      await store.createKey(key('key_o2', { owner: 'acct-a', createdAt: T0 + 20 }));
      await store.createKey(key('key_o3', { owner: 'acct-b', createdAt: T0 + 30 }));
      await store.createKey(key('key_o4', { owner: null, createdAt: T0 + 40 }));
      assert.deepEqual(
        (await store.listKeysByOwner('acct-a')).map((k) => k.id),
        ['key_o2', 'key_o1'],
      );
      assert.deepEqual(await store.listKeysByOwner('acct-nobody'), []);
    });

    it("reports each key's latest use, only for keys that have one", async () => {
      const use = (keyId: string, time: number) => ({
        keyId,
        model: 'spam',
        version: '1',
        status: 200,
        units: 1,
        latencyMs: 1,
        time,
      });
      await store.recordUsage([use('key_lu1', T0 + 5), use('key_lu1', T0 + 50), use('key_lu2', T0 + 7)]);
      const last = await store.lastUsed(['key_lu1', 'key_lu2', 'key_lu_never', 'key_lu1']);
      assert.deepEqual([...last.entries()].sort(), [
        ['key_lu1', T0 + 50],
        ['key_lu2', T0 + 7],
      ]);
      assert.equal((await store.lastUsed([])).size, 0);
      await assert.rejects(store.lastUsed(Array.from({ length: 1001 }, (_, i) => `key_${i}`)), RangeError);
    });

    it('revokes once (the first time stays) and reports unknown ids', async () => {
      await store.createKey(key('key_r1'));
      assert.equal(await store.revokeKey('key_r1', T0), true);
      assert.equal(await store.revokeKey('key_r1', T0 + 5), true);
      assert.equal((await store.getKey('key_r1'))?.revokedAt, T0);
      assert.equal(await store.revokeKey('key_missing', T0), false);
    });

    it('sets and clears an expiry', async () => {
      await store.createKey(key('key_e1'));
      assert.equal(await store.setExpiry('key_e1', T0 + 7), true);
      assert.equal((await store.getKey('key_e1'))?.expiresAt, T0 + 7);
      assert.equal(await store.setExpiry('key_e1', null), true);
      assert.equal((await store.getKey('key_e1'))?.expiresAt, null);
      assert.equal(await store.setExpiry('key_missing', 1), false);
    });

    it('records usage and totals it per UTC day and model', async () => {
      const u = (model: string, time: number, status = 200, units = 1) => ({
        keyId: 'key_u1',
        model,
        version: '1',
        status,
        units,
        latencyMs: 2.5,
        time,
      });
      await store.recordUsage([u('spam', T0), u('spam', T0 + 1, 429, 0), u('ocr', T0 + 2, 200, 5)]);
      // one hour later is the next UTC day (T0 is 23:00)
      await store.recordUsage([u('spam', T0 + 3_600_000)]);
      await store.recordUsage([{ ...u('spam', T0), keyId: 'key_u2' }]);
      await store.recordUsage([]);
      const totals = await store.usageTotals({ keyId: 'key_u1' });
      assert.deepEqual(totals, [
        { keyId: 'key_u1', day: '2026-11-01', model: 'ocr', requests: 1, units: 5, errors: 0 },
        { keyId: 'key_u1', day: '2026-11-01', model: 'spam', requests: 2, units: 1, errors: 1 },
        { keyId: 'key_u1', day: '2026-11-02', model: 'spam', requests: 1, units: 1, errors: 0 },
      ]);
      assert.equal(await store.unitsUsed('key_u1', T0, T0 + 3), 6);
      assert.equal(await store.unitsUsed('key_u1', T0, T0 + DAY), 7);
      assert.equal(await store.unitsUsed('key_nobody', 0, T0 + DAY), 0);
      const recs = await store.usageRecords({ keyId: 'key_u1', from: T0 + 1, to: T0 + 3 });
      assert.deepEqual(
        recs.map((r) => [r.model, r.status, r.units, r.latencyMs, r.time]),
        [
          ['spam', 429, 0, 2.5, T0 + 1],
          ['ocr', 200, 5, 2.5, T0 + 2],
        ],
      );
      const all = await store.usageTotals({ from: T0, to: T0 + 1 });
      assert.deepEqual(
        all.map((t) => t.keyId),
        ['key_u1', 'key_u2'],
      );
    });

    const prediction = (over: Partial<PredictionRecord> = {}): PredictionRecord => ({
      keyId: 'key_p1',
      requestId: 'req-1',
      model: 'spam',
      version: '1',
      output: '{"label":"spam","score":0.9}',
      label: 'spam',
      input: '{"text":"win money"}',
      time: T0,
      expiresAt: T0 + DAY,
      ...over,
    });
    const feedback = (over: Partial<FeedbackRecord> = {}): FeedbackRecord => ({
      keyId: 'key_p1',
      requestId: 'req-1',
      label: 'ham',
      text: null,
      correct: false,
      time: T0 + 1000,
      ...over,
    });

    const record = (p: PredictionRecord) => store.recordPredictions([p]);

    it('logs a batch in one call; within it the last record of a request id wins', async () => {
      await store.recordPredictions([
        prediction({ keyId: 'key_b1', requestId: 'b1', version: '1' }),
        prediction({ keyId: 'key_b1', requestId: 'b2' }),
        prediction({ keyId: 'key_b1', requestId: 'b1', version: '2' }),
      ]);
      assert.equal((await store.getPrediction('key_b1', 'b1', T0))?.version, '2');
      assert.equal((await store.getPrediction('key_b1', 'b2', T0))?.requestId, 'b2');
      await store.recordPredictions([]);
    });

    it('logs a prediction per key and request id; another key or an expired one finds nothing', async () => {
      await record(prediction());
      assert.deepEqual(await store.getPrediction('key_p1', 'req-1', T0), prediction());
      assert.equal(await store.getPrediction('key_other', 'req-1', T0), undefined);
      assert.equal(await store.getPrediction('key_p1', 'req-1', T0 + DAY), undefined, 'expired');
      assert.equal(await store.getPrediction('key_p1', 'nope', T0), undefined);
    });

    it('stores feedback with its prediction, replaces a second one, and lists kept inputs for training', async () => {
      await record(prediction({ keyId: 'key_f1', requestId: 'r1', time: T0 }));
      await record(prediction({ keyId: 'key_f1', requestId: 'r2', input: null }));
      await record(prediction({ keyId: 'key_f2', requestId: 'r1', model: 'fbmodel' }));
      await record(prediction({ keyId: 'key_f1', requestId: 'r3', model: 'fbmodel' }));
      assert.equal(
        await store.recordFeedback(feedback({ keyId: 'key_f1', requestId: 'r1', label: 'spam' })),
        false,
      );
      assert.equal(await store.recordFeedback(feedback({ keyId: 'key_f1', requestId: 'r2' })), false);
      assert.equal(
        await store.recordFeedback(feedback({ keyId: 'key_f2', requestId: 'r1', time: T0 + 5 })),
        false,
      );
      assert.equal(
        await store.recordFeedback(
          feedback({ keyId: 'key_f1', requestId: 'r3', time: T0 + 9, correct: null }),
        ),
        false,
      );
      assert.equal(
        await store.recordFeedback(
          feedback({ keyId: 'key_f1', requestId: 'r3', time: T0 + 7, text: 'fixed' }),
        ),
        true,
        'a second feedback replaces the first',
      );
      const ex = await store.feedbackExamples('fbmodel', 100);
      assert.deepEqual(
        ex.map((e) => [e.keyId, e.requestId, e.label, e.text, e.time]),
        [
          ['key_f2', 'r1', 'ham', null, T0 + 5],
          ['key_f1', 'r3', 'ham', 'fixed', T0 + 7],
        ],
      );
      assert.equal(ex[0]!.input, '{"text":"win money"}');
      assert.equal((await store.feedbackExamples('fbmodel', 1)).length, 1, 'bounded by limit');
      // r2 of spam kept no input: not a training example.
      const spam = (await store.feedbackExamples('spam', 100)).filter((e) => e.keyId === 'key_f1');
      assert.deepEqual(
        spam.map((e) => e.requestId),
        ['r1'],
      );
    });

    it('a repeated request id replaces the prediction and drops its feedback', async () => {
      await record(prediction({ keyId: 'key_r1', model: 'rmodel' }));
      await store.recordFeedback(feedback({ keyId: 'key_r1' }));
      assert.equal((await store.feedbackExamples('rmodel', 10)).length, 1);
      await record(prediction({ keyId: 'key_r1', model: 'rmodel', version: '2' }));
      assert.equal((await store.getPrediction('key_r1', 'req-1', T0))?.version, '2');
      assert.deepEqual(await store.feedbackExamples('rmodel', 10), []);
    });

    it('purges expired predictions with their feedback, and only those', async () => {
      await record(prediction({ keyId: 'key_x1', model: 'xmodel', expiresAt: T0 + 10 }));
      await record(
        prediction({ keyId: 'key_x1', requestId: 'keep', model: 'xmodel', expiresAt: T0 + 1000 * DAY }),
      );
      await store.recordFeedback(feedback({ keyId: 'key_x1' }));
      await store.recordFeedback(feedback({ keyId: 'key_x1', requestId: 'keep' }));
      assert.ok((await store.purgePredictions(T0 + 10)) >= 1);
      assert.equal(await store.getPrediction('key_x1', 'req-1', 0), undefined);
      assert.deepEqual(
        (await store.feedbackExamples('xmodel', 10)).map((e) => e.requestId),
        ['keep'],
      );
    });

    it('rollout states: insert once, update only against the revision read, listed by model', async () => {
      const state = rollout('spam', 1);
      assert.equal(await store.getRollout('spam'), undefined);
      assert.equal(await store.saveRollout(state, 0), true);
      // A second first write (another replica) loses.
      assert.equal(await store.saveRollout({ ...state, reason: 'other' }, 0), false);
      assert.deepEqual(await store.getRollout('spam'), state);
      const next = { ...state, phase: 'rolled_back' as const, reason: 'p99 too high', revision: 2 };
      assert.equal(await store.saveRollout(next, 1), true);
      // A stale writer (read revision 1) loses and changes nothing.
      assert.equal(await store.saveRollout({ ...state, phase: 'promoted', revision: 2 }, 1), false);
      assert.deepEqual(await store.getRollout('spam'), next);
      await store.saveRollout(rollout('ocr', 1), 0);
      assert.deepEqual(
        (await store.listRollouts()).map((r) => [r.model, r.phase, r.revision]),
        [
          ['ocr', 'canary', 1],
          ['spam', 'rolled_back', 2],
        ],
      );
    });
  });
}

export function rollout(model: string, revision: number): RolloutState {
  return {
    model,
    phase: 'canary',
    production: '1',
    candidate: '2',
    percent: 10,
    shadowPercent: 5,
    policy: { windowMs: 60_000, minSamples: 50, errorRateMargin: 0.05, p99Margin: 0.5, p99SlackMs: 5 },
    reason: 'canary of version 2 started',
    by: 'ana',
    startedAt: T0,
    updatedAt: T0,
    retainUntil: null,
    revision,
  };
}
