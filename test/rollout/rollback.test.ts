/** The rollback rule: minimum samples, error-rate margin, p99 margin and slack. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { judge } from '../../src/service/rollout/rollback.js';
import { DEFAULT_POLICY } from '../../src/service/rollout/state.js';
import type { WindowSnapshot } from '../../src/service/rollout/window.js';

const snap = (requests: number, errors: number, p99Ms?: number): WindowSnapshot => ({
  requests,
  errors,
  errorRate: requests ? errors / requests : 0,
  p99Ms,
});
const policy = { ...DEFAULT_POLICY, minSamples: 50, errorRateMargin: 0.05, p99Margin: 0.5, p99SlackMs: 5 };

it('nothing is judged below the minimum sample size, however bad', () => {
  const v = judge(policy, snap(1000, 0, 10), snap(49, 49));
  assert.equal(v.rollback, false);
});

it('an error rate beyond production + margin rolls back, and the reason says the numbers', () => {
  const v = judge(policy, snap(1000, 10, 10), snap(50, 4, 10)); // 1% vs 8%
  assert.equal(v.rollback, true);
  assert.match(
    (v as { reason: string }).reason,
    /error rate 8\.0% over 50 requests against production's 1\.0%/,
  );
  assert.equal(judge(policy, snap(1000, 10, 10), snap(100, 6, 10)).rollback, false); // 6% vs 1%: within 5 points
});

it('with too few production requests the candidate is held to an error rate of 0 + margin', () => {
  assert.equal(judge(policy, snap(3, 0), snap(100, 6, 10)).rollback, true);
  assert.equal(judge(policy, snap(3, 0), snap(100, 5, 10)).rollback, false);
});

it('a p99 beyond production × (1 + margin) and by the slack rolls back', () => {
  const v = judge(policy, snap(5000, 0, 20), snap(1000, 0, 31));
  assert.equal(v.rollback, true);
  assert.match((v as { reason: string }).reason, /p99 latency 31\.0 ms against production's 20\.0 ms/);
  assert.equal(judge(policy, snap(5000, 0, 20), snap(1000, 0, 29)).rollback, false); // within +50%
  // 2 ms → 4 ms is +100% but under the 5 ms slack: noise, not a regression.
  assert.equal(judge(policy, snap(5000, 0, 2), snap(1000, 0, 4)).rollback, false);
  // Latency needs 1000 successes on each side: a p99 of fewer is close to their maximum.
  assert.equal(judge(policy, snap(10, 0, 2), snap(1000, 0, 400)).rollback, false);
  assert.equal(judge(policy, snap(5000, 0, 20), snap(999, 0, 400)).rollback, false);
});
