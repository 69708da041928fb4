/**
 * The controller over an in-memory store and a fake clock: routing, automatic rollback within the
 * window and not before the minimum samples, and two replicas sharing one store.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { RolloutController } from '../../src/service/rollout/controller.js';
import type { RolloutStore } from '../../src/service/rollout/rollout-store.js';
import type { RolloutState } from '../../src/service/rollout/state.js';

export class MemoryRolloutStore implements RolloutStore {
  rows = new Map<string, RolloutState>();
  async listRollouts() {
    return [...this.rows.values()];
  }
  async getRollout(model: string) {
    return this.rows.get(model);
  }
  async saveRollout(s: RolloutState, expected: number) {
    if ((this.rows.get(s.model)?.revision ?? 0) !== expected) return false;
    this.rows.set(s.model, s);
    return true;
  }
}

function controller(store: RolloutStore, clock: { t: number }, rolled: RolloutState[] = []) {
  return new RolloutController({
    store,
    retainMs: 60_000,
    judgeEveryMs: 0,
    now: () => clock.t,
    events: { rolledBack: (s) => rolled.push(s) },
  });
}

const policy = { windowMs: 10_000, minSamples: 20, errorRateMargin: 0.05, p99Margin: 0.5, p99SlackMs: 5 };

it('routes unversioned requests by key during a canary, then to the promoted version', async () => {
  const clock = { t: 1000 };
  const c = controller(new MemoryRolloutStore(), clock);
  assert.equal(c.route('spam', 'k'), undefined); // no rollout: the router's default
  await c.startRollout({ model: 'spam', production: '1', candidate: '2', percent: 30, by: 'ana' });
  let two = 0;
  for (let i = 0; i < 10_000; i++) if (c.route('spam', `key${i}`) === '2') two++;
  assert.ok(Math.abs(two / 100 - 30) <= 2, `${two / 100}%`);
  await c.promote('spam', 'ana');
  for (let i = 0; i < 100; i++) assert.equal(c.route('spam', `key${i}`), '2');
  await c.rollBack('spam', 'customers complained', 'ana');
  for (let i = 0; i < 100; i++) assert.equal(c.route('spam', `key${i}`), '1');
  assert.equal(c.state('spam')?.reason, 'customers complained');
});

it('a broken candidate is rolled back as soon as it has the minimum samples, inside the window', async () => {
  const clock = { t: 1000 };
  const store = new MemoryRolloutStore();
  const rolled: RolloutState[] = [];
  const c = controller(store, clock, rolled);
  await c.startRollout({ model: 'spam', production: '1', candidate: '2', percent: 50, by: 'ana', policy });
  for (let i = 0; i < 19; i++) {
    c.observe('spam', '1', true, 2);
    c.observe('spam', '2', false, 1);
    clock.t += 100;
  }
  assert.equal(c.state('spam')?.phase, 'canary', 'not judged before 20 samples');
  c.observe('spam', '2', false, 1);
  // At once in this process: the next request goes to production.
  assert.equal(c.state('spam')?.phase, 'rolled_back');
  assert.equal(c.route('spam', 'any'), '1');
  assert.equal(rolled.length, 1);
  assert.match(rolled[0]!.reason, /^automatic rollback: error rate 100\.0% over 20 requests/);
  await new Promise((r) => setImmediate(r));
  assert.equal(store.rows.get('spam')?.phase, 'rolled_back', 'written to the store');
  assert.ok(clock.t - 1000 < policy.windowMs);
});

it('a slow candidate is rolled back on p99; a healthy one is not', async () => {
  const clock = { t: 0 };
  const c = controller(new MemoryRolloutStore(), clock);
  await c.startRollout({ model: 'ok', production: '1', candidate: '2', percent: 50, by: 'a', policy });
  await c.startRollout({ model: 'slow', production: '1', candidate: '2', percent: 50, by: 'a', policy });
  for (let i = 0; i < 1200; i++) {
    for (const m of ['ok', 'slow']) c.observe(m, '1', true, 10 + (i % 5));
    c.observe('ok', '2', true, 10 + (i % 7));
    c.observe('slow', '2', true, 40);
    clock.t += 1;
  }
  assert.equal(c.state('ok')?.phase, 'canary');
  assert.equal(c.state('slow')?.phase, 'rolled_back');
  assert.match(c.state('slow')!.reason, /p99 latency/);
});

it('old failures leave the window: errors spread thinner than the window never add up', async () => {
  const clock = { t: 0 };
  const c = controller(new MemoryRolloutStore(), clock);
  await c.startRollout({ model: 'm', production: '1', candidate: '2', percent: 50, by: 'a', policy });
  // 1 failure in 5 requests, but only 10 candidate requests per 10 s window: below the minimum.
  for (let i = 0; i < 100; i++) {
    c.observe('m', '2', i % 5 !== 0, 1);
    clock.t += 1000;
  }
  assert.equal(c.state('m')?.phase, 'canary');
});

it('replicas share one store: a rollback in one is read by the other on its next reload', async () => {
  const clock = { t: 0 };
  const store = new MemoryRolloutStore();
  const a = controller(store, clock);
  const b = controller(store, clock);
  await a.startRollout({ model: 'm', production: '1', candidate: '2', percent: 100, by: 'a', policy });
  await b.refresh();
  assert.equal(b.route('m', 'x'), '2');
  for (let i = 0; i < 20; i++) a.observe('m', '2', false, 1);
  await new Promise((r) => setImmediate(r));
  await b.refresh();
  assert.equal(b.state('m')?.phase, 'rolled_back');
  assert.equal(b.route('m', 'x'), '1');
  // A command against a stale revision fails with rollout_conflict instead of overwriting.
  const racing = new MemoryRolloutStore();
  const c = controller(racing, clock);
  const d = controller(racing, clock);
  await c.startRollout({ model: 'm', production: '1', candidate: '2', percent: 10, by: 'c' });
  const save = racing.saveRollout.bind(racing);
  racing.saveRollout = async (s, e) => {
    racing.saveRollout = save;
    await d.rollBack('m', 'meanwhile', 'd');
    return save(s, e);
  };
  await assert.rejects(c.promote('m', 'c'), { code: 'rollout_conflict' });
  assert.equal(racing.rows.get('m')?.phase, 'rolled_back');
});

it('an automatic rollback that loses the race to another writer takes the stored state', async () => {
  const clock = { t: 0 };
  const store = new MemoryRolloutStore();
  const a = controller(store, clock);
  const b = controller(store, clock);
  await a.startRollout({ model: 'm', production: '1', candidate: '2', percent: 50, by: 'a', policy });
  await b.refresh();
  // b promotes (revision 2) while a still holds revision 1 and then rolls back automatically.
  await b.promote('m', 'b');
  for (let i = 0; i < 20; i++) a.observe('m', '2', false, 1);
  assert.equal(a.state('m')?.phase, 'rolled_back', 'at once, locally');
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
  assert.equal(store.rows.get('m')?.phase, 'promoted', "the store keeps the winner's change");
  assert.equal(a.state('m')?.phase, 'promoted', 'and the loser follows it');
});

it('shadow share: only requests production answers, only with a share', async () => {
  const c = controller(new MemoryRolloutStore(), { t: 0 });
  await c.startRollout({
    model: 'm',
    production: '1',
    candidate: '2',
    percent: 10,
    shadowPercent: 50,
    by: 'a',
  });
  let mirrored = 0;
  for (let i = 0; i < 10_000; i++) if (c.shadowOf('m', '1', `r${i}`) === '2') mirrored++;
  assert.ok(Math.abs(mirrored / 100 - 50) <= 2);
  for (let i = 0; i < 100; i++) assert.equal(c.shadowOf('m', '2', `r${i}`), undefined);
});
