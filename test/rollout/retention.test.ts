/**
 * When a promote's previous version leaves (retention.ts): the rule over the version policy and
 * aliases, and the watcher over two controllers sharing one store with a fake clock, where a
 * rollback taken on the other replica before the window ends wins over the timer.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ModelConfig } from '../../src/core/model-config.js';
import { SqliteStore } from '../../src/gateway/store/sqlite.js';
import { RolloutController } from '../../src/service/rollout/controller.js';
import { RetentionWatcher, retentionOf } from '../../src/service/rollout/retention.js';
import { DEFAULT_POLICY, type RolloutState } from '../../src/service/rollout/state.js';

const promoted: RolloutState = {
  model: 'spam',
  phase: 'promoted',
  production: '1',
  candidate: '2',
  percent: 100,
  shadowPercent: 0,
  policy: DEFAULT_POLICY,
  reason: 'version 2 promoted',
  by: 'ana',
  startedAt: 0,
  updatedAt: 1000,
  retainUntil: 61_000,
  revision: 2,
};
type Policy = Pick<ModelConfig, 'version_policy' | 'aliases'>;
const latest: Policy = { version_policy: { latest: { num_versions: 2 } }, aliases: { production: '1' } };

describe('retentionOf', () => {
  it('nothing is due during a canary, inside the window, after a rollback, or for an unloaded model', () => {
    assert.equal(retentionOf({ ...promoted, phase: 'canary', retainUntil: null }, 99_000, latest), undefined);
    assert.equal(
      retentionOf(promoted, 61_000, latest),
      undefined,
      'the window includes its last millisecond',
    );
    assert.equal(retentionOf({ ...promoted, phase: 'rolled_back' }, 99_000, latest), undefined);
    assert.equal(retentionOf(promoted, 99_000, undefined), undefined);
    assert.equal(retentionOf(undefined, 99_000, latest), undefined);
  });

  it('under `latest` the previous version leaves, with the reason clients are told', () => {
    assert.deepEqual(retentionOf(promoted, 61_001, latest), {
      retire: true,
      version: '1',
      reason: 'retired after promote of version 2 (rollback window ended 1970-01-01T00:01:01.000Z)',
    });
  });

  it('a policy that names versions, or another alias, keeps it', () => {
    const all: Policy = { version_policy: { all: {} }, aliases: {} };
    const specific: Policy = { version_policy: { specific: { versions: [1, 2] } }, aliases: {} };
    const pinned: Policy = { ...latest, aliases: { production: '1', stable: '1' } };
    assert.deepEqual(retentionOf(promoted, 70_000, all), {
      retire: false,
      version: '1',
      why: 'version_policy all loads it',
    });
    assert.equal(retentionOf(promoted, 70_000, specific)?.retire, false);
    assert.deepEqual(retentionOf(promoted, 70_000, pinned), {
      retire: false,
      version: '1',
      why: "alias 'stable' names it",
    });
  });
});

describe('RetentionWatcher', () => {
  const setup = (config: Policy) => {
    const store = new SqliteStore(':memory:');
    const clock = { t: 1000 };
    const replica = () => new RolloutController({ store, retainMs: 60_000, now: () => clock.t });
    const a = replica();
    const b = replica();
    const retired: string[] = [];
    const kept: string[] = [];
    const watcher = new RetentionWatcher({
      reread: async (model) => {
        await a.refresh();
        return a.state(model);
      },
      configOf: () => config as ModelConfig,
      retire: async (model, version, reason) => {
        retired.push(`${model}/${version}: ${reason}`);
        return true;
      },
      kept: (model, version, why) => kept.push(`${model}/${version}: ${why}`),
      now: () => clock.t,
    });
    const canary = { model: 'spam', production: '1', candidate: '2', percent: 10, by: 'ana' };
    return { store, clock, a, b, watcher, retired, kept, canary };
  };

  it('retires once the window is over, reading the store first', async () => {
    const { store, clock, a, watcher, retired, canary } = setup(latest);
    await a.startRollout(canary);
    await a.promote('spam', 'ana');
    clock.t = 61_000;
    await watcher.check('spam');
    assert.deepEqual(retired, [], 'inside the window');
    clock.t = 61_001;
    await watcher.check('spam');
    assert.deepEqual(retired, [
      'spam/1: retired after promote of version 2 (rollback window ended 1970-01-01T00:01:01.000Z)',
    ]);
    watcher.stop();
    await store.close();
  });

  it('a rollback on another replica inside the window wins over the timer', async () => {
    const { store, clock, a, b, watcher, retired, canary } = setup(latest);
    await a.startRollout(canary);
    await a.promote('spam', 'ana');
    // B takes the rollback at the window's last millisecond; A has not read it when its timer fires.
    clock.t = 61_000;
    await b.rollBack('spam', 'complaints', 'bo');
    assert.equal(a.state('spam')?.phase, 'promoted');
    clock.t = 61_001;
    await watcher.check('spam');
    assert.deepEqual(retired, []);
    assert.equal(a.state('spam')?.phase, 'rolled_back');
    watcher.stop();
    await store.close();
  });

  it('a version the policy loads stays, and the log says so once', async () => {
    const { store, clock, a, watcher, retired, kept, canary } = setup({
      version_policy: { all: {} },
      aliases: {},
    });
    await a.startRollout(canary);
    await a.promote('spam', 'ana');
    clock.t = 70_000;
    await watcher.check('spam');
    await watcher.check('spam');
    assert.deepEqual(retired, []);
    assert.deepEqual(kept, ['spam/1: version_policy all loads it']);
    watcher.stop();
    await store.close();
  });
});
