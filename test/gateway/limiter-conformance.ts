/**
 * The Limiter conformance suite, run against the in-process and the Redis limiter alike
 * (test/gateway/limiter-memory.test.ts, limiter-redis.test.ts). No case is skipped by either.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Limiter } from '../../src/gateway/limiter/types.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function limiterConformance(
  name: string,
  open: () => Promise<Limiter>,
  cleanup: (l: Limiter) => Promise<void>,
) {
  describe(`Limiter conformance: ${name}`, () => {
    let l: Limiter;
    before(async () => {
      l = await open();
    });
    after(async () => {
      await cleanup(l);
    });

    it('a new bucket allows exactly its burst, then denies with a retry delay', async () => {
      // 1 token per minute: nothing refills during the test
      const b = { capacity: 3, refillPerMs: 1 / 60_000 };
      const d = [];
      for (let i = 0; i < 4; i++) d.push(await l.take('burst', b));
      assert.deepEqual(
        d.map((x) => [x.allowed, x.remaining]),
        [
          [true, 2],
          [true, 1],
          [true, 0],
          [false, 0],
        ],
      );
      assert.ok(d[3]!.retryAfterMs > 50_000 && d[3]!.retryAfterMs <= 60_000, String(d[3]!.retryAfterMs));
      assert.ok(d[3]!.resetMs >= d[3]!.retryAfterMs);
      assert.equal(d[0]!.retryAfterMs, 0);
    });

    it('buckets under different keys are independent', async () => {
      const b = { capacity: 1, refillPerMs: 1 / 60_000 };
      assert.equal((await l.take('k1', b)).allowed, true);
      assert.equal((await l.take('k1', b)).allowed, false);
      assert.equal((await l.take('k2', b)).allowed, true);
    });

    it('a denied bucket allows again once retryAfterMs has passed', async () => {
      const b = { capacity: 1, refillPerMs: 1 / 100 }; // one token per 100 ms
      assert.equal((await l.take('refill', b)).allowed, true);
      const denied = await l.take('refill', b);
      assert.equal(denied.allowed, false);
      await sleep(denied.retryAfterMs + 30);
      assert.equal((await l.take('refill', b)).allowed, true);
    });

    it('concurrent slots: max at once, a released slot is reusable', async () => {
      assert.equal(await l.acquire('c', 2, 60_000), true);
      assert.equal(await l.acquire('c', 2, 60_000), true);
      assert.equal(await l.acquire('c', 2, 60_000), false);
      await l.release('c');
      assert.equal(await l.acquire('c', 2, 60_000), true);
      assert.equal(await l.acquire('c', 2, 60_000), false);
    });

    it('quota: seeds once from the store, stops at the limit, refunds', async () => {
      let seeds = 0;
      const seed = async () => {
        seeds += 1;
        return 7;
      };
      const end = Date.now() + 3_600_000;
      assert.deepEqual(await l.consume('q', 2, 10, end, seed), { allowed: true, used: 9 });
      assert.deepEqual(await l.consume('q', 2, 10, end, seed), { allowed: false, used: 9 });
      assert.deepEqual(await l.consume('q', 1, 10, end, seed), { allowed: true, used: 10 });
      await l.refund('q', 5);
      assert.deepEqual(await l.consume('q', 5, 10, end, seed), { allowed: true, used: 10 });
      assert.equal(seeds, 1);
    });

    it('quota: parallel calls never overshoot the limit', async () => {
      const end = Date.now() + 3_600_000;
      const res = await Promise.all(
        Array.from({ length: 20 }, () => l.consume('qp', 1, 5, end, async () => 0)),
      );
      assert.equal(res.filter((r) => r.allowed).length, 5);
    });
  });
}
