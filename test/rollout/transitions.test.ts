/** The rollout state machine: none → canary → promoted | rolled_back, with stable error codes. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { promote, rollBack, start } from '../../src/service/rollout/transitions.js';

const cmd = { model: 'spam', production: '1', candidate: '2', percent: 10, by: 'ana' };
const code = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    return (e as { code: string }).code;
  }
  return 'none';
};

it('start → promote → rollback within retention', () => {
  const a = start(undefined, cmd, 1000);
  assert.deepEqual([a.phase, a.percent, a.revision, a.retainUntil], ['canary', 10, 1, null]);
  const b = promote(a, 'bo', 2000, 60_000);
  assert.deepEqual([b.phase, b.revision, b.retainUntil, b.by], ['promoted', 2, 62_000, 'bo']);
  const c = rollBack(b, 'bad reviews', 'ana', 3000);
  assert.deepEqual([c.phase, c.production, c.reason], ['rolled_back', '1', 'bad reviews']);
  assert.equal(
    code(() => rollBack(b, 'late', 'ana', 70_000)),
    'rollout_conflict',
  );
});

it('starting again with the same candidate changes the shares; another candidate conflicts', () => {
  const a = start(undefined, cmd, 1000);
  const b = start(a, { ...cmd, percent: 50, shadowPercent: 20 }, 2000);
  assert.deepEqual([b.percent, b.shadowPercent, b.startedAt, b.revision], [50, 20, 1000, 2]);
  assert.equal(
    code(() => start(a, { ...cmd, candidate: '3' }, 2000)),
    'rollout_conflict',
  );
  // After a rollback a new rollout may start; it keeps counting revisions.
  const c = start(rollBack(a, 'x', 'y', 1500), { ...cmd, candidate: '3' }, 2000);
  assert.deepEqual([c.phase, c.candidate, c.revision], ['canary', '3', 3]);
});

it('bad input is invalid_request; bad state is rollout_conflict', () => {
  assert.equal(
    code(() => start(undefined, { ...cmd, percent: 101 }, 0)),
    'invalid_request',
  );
  assert.equal(
    code(() => start(undefined, { ...cmd, percent: Number.NaN }, 0)),
    'invalid_request',
  );
  assert.equal(
    code(() => start(undefined, { ...cmd, policy: { minSamples: 0 } }, 0)),
    'invalid_request',
  );
  assert.equal(
    code(() => start(undefined, { ...cmd, policy: { windowMs: 10 } }, 0)),
    'invalid_request',
  );
  assert.equal(
    code(() => start(undefined, { ...cmd, candidate: '1' }, 0)),
    'rollout_conflict',
  );
  assert.equal(
    code(() => promote(undefined, 'x', 0, 0)),
    'rollout_conflict',
  );
  assert.equal(
    code(() => rollBack(undefined, 'x', 'y', 0)),
    'rollout_conflict',
  );
  const done = rollBack(start(undefined, cmd, 0), 'x', 'y', 1);
  assert.equal(
    code(() => promote(done, 'x', 2, 0)),
    'rollout_conflict',
  );
  assert.equal(
    code(() => rollBack(done, 'x', 'y', 2)),
    'rollout_conflict',
  );
});
