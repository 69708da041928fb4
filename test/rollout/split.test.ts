/** The canary split: exact to ±2 points over 10,000 keys at every share, sticky, reshuffled per rollout. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { armOf, bucketOf, BUCKETS, mirrored } from '../../src/service/rollout/split.js';
import { rollout } from '../store/conformance.js';

const state = (percent: number, shadowPercent = 0) => ({ ...rollout('spam', 1), percent, shadowPercent });

it('over 10,000 API keys the candidate share is within ±2 points of the target, at every target', () => {
  for (const percent of [1, 5, 10, 25, 50, 75, 90, 99]) {
    const s = state(percent);
    let candidate = 0;
    for (let i = 0; i < 10_000; i++)
      if (armOf(s, `key_${i.toString(16).padStart(12, '0')}`) === 'candidate') candidate++;
    const share = candidate / 100;
    assert.ok(Math.abs(share - percent) <= 2, `target ${percent}%: got ${share}%`);
  }
});

it("over 10,000 request ids of the server's own form (prefix-counter) the share holds too", () => {
  const s = state(10);
  let candidate = 0;
  for (let i = 1; i <= 10_000; i++)
    if (armOf(s, `8f3a2c1b9d0e7f64-${i.toString(36)}`) === 'candidate') candidate++;
  assert.ok(Math.abs(candidate / 100 - 10) <= 2, `got ${candidate / 100}%`);
});

it('0% sends nobody and 100% everybody to the candidate', () => {
  for (let i = 0; i < 1000; i++) {
    assert.equal(armOf(state(0), `k${i}`), 'production');
    assert.equal(armOf(state(100), `k${i}`), 'candidate');
  }
});

it('sticky: one key always gets the same arm, and raising the share only moves keys to the candidate', () => {
  const s10 = state(10);
  const s20 = state(20);
  for (let i = 0; i < 2000; i++) {
    const k = `key_${i}`;
    const first = armOf(s10, k);
    for (let j = 0; j < 5; j++) assert.equal(armOf(s10, k), first);
    if (first === 'candidate') assert.equal(armOf(s20, k), 'candidate');
  }
});

it('a new rollout (another start time) reshuffles which keys are in the canary', () => {
  const a = state(50);
  const b = { ...a, startedAt: a.startedAt + 1 };
  let same = 0;
  for (let i = 0; i < 2000; i++) if (armOf(a, `k${i}`) === armOf(b, `k${i}`)) same++;
  assert.ok(same > 800 && same < 1200, `independent halves agree about half the time, got ${same}/2000`);
});

it('the shadow share is independent of the canary share and within ±2 points', () => {
  const s = state(10, 30);
  let mirroredCount = 0;
  let both = 0;
  for (let i = 0; i < 10_000; i++) {
    const k = `req-${i}`;
    const m = mirrored(s, k);
    if (m) mirroredCount++;
    if (m && armOf(s, k) === 'candidate') both++;
  }
  assert.ok(Math.abs(mirroredCount / 100 - 30) <= 2, `got ${mirroredCount / 100}%`);
  // Independent: about 30% of the 10% canary keys are also in the shadow share (3% of all).
  assert.ok(Math.abs(both / 100 - 3) <= 1, `got ${both / 100}%`);
});

it('buckets are in range', () => {
  for (let i = 0; i < 1000; i++) {
    const b = bucketOf('salt', String(i));
    assert.ok(Number.isInteger(b) && b >= 0 && b < BUCKETS);
  }
});
