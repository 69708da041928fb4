/** In-process limiter: exact for one replica; state is lost on restart (quotas re-seed from the store). */
import type { Limiter, QuotaDecision, RateDecision, TokenBucket } from './types.js';

interface BucketState {
  tokens: number;
  at: number;
}

/** Buckets untouched this long are full again and can be forgotten. */
const SWEEP_EVERY = 10_000;

export class MemoryLimiter implements Limiter {
  readonly kind = 'memory' as const;
  private readonly buckets = new Map<string, BucketState & { fullAt: number }>();
  private readonly slots = new Map<string, number>();
  private readonly counters = new Map<string, { used: number; expiresAt: number }>();
  private readonly seeding = new Map<string, Promise<void>>();
  private calls = 0;

  constructor(private readonly now: () => number = Date.now) {}

  async take(key: string, b: TokenBucket): Promise<RateDecision> {
    const now = this.now();
    if (++this.calls % SWEEP_EVERY === 0) this.sweep(now);
    const s = this.buckets.get(key);
    let tokens = s ? Math.min(b.capacity, s.tokens + (now - s.at) * b.refillPerMs) : b.capacity;
    const allowed = tokens >= 1;
    if (allowed) tokens -= 1;
    this.buckets.set(key, { tokens, at: now, fullAt: now + (b.capacity - tokens) / b.refillPerMs });
    return {
      allowed,
      remaining: Math.floor(tokens),
      retryAfterMs: allowed ? 0 : Math.ceil((1 - tokens) / b.refillPerMs),
      resetMs: Math.ceil((b.capacity - tokens) / b.refillPerMs),
    };
  }

  async acquire(key: string, max: number): Promise<boolean> {
    const n = this.slots.get(key) ?? 0;
    if (n >= max) return false;
    this.slots.set(key, n + 1);
    return true;
  }

  async release(key: string): Promise<void> {
    const n = (this.slots.get(key) ?? 0) - 1;
    if (n <= 0) this.slots.delete(key);
    else this.slots.set(key, n);
  }

  async consume(
    key: string,
    units: number,
    limit: number,
    expiresAt: number,
    seed: () => Promise<number>,
  ): Promise<QuotaDecision> {
    let c = this.counters.get(key);
    if (!c || c.expiresAt <= this.now()) {
      // One seed per key even when many requests arrive together.
      let p = this.seeding.get(key);
      if (!p) {
        p = seed().then((used) => {
          this.counters.set(key, { used, expiresAt });
        });
        this.seeding.set(key, p);
        p.finally(() => this.seeding.delete(key)).catch(() => undefined);
      }
      await p;
      c = this.counters.get(key)!;
    }
    if (c.used + units > limit) return { allowed: false, used: c.used };
    c.used += units;
    return { allowed: true, used: c.used };
  }

  async refund(key: string, units: number): Promise<void> {
    const c = this.counters.get(key);
    if (c) c.used = Math.max(0, c.used - units);
  }

  private sweep(now: number): void {
    for (const [k, s] of this.buckets) if (s.fullAt <= now) this.buckets.delete(k);
    for (const [k, c] of this.counters) if (c.expiresAt <= now) this.counters.delete(k);
  }

  async close(): Promise<void> {
    this.buckets.clear();
  }
}
