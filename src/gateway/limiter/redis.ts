/**
 * Redis limiter, shared by every replica. Each decision is one Lua script, so it is atomic across
 * replicas; the bucket uses Redis's clock (TIME), so replicas with skewed clocks agree.
 */
import { Redis } from 'ioredis';
import type { Limiter, QuotaDecision, RateDecision, TokenBucket } from './types.js';

/** KEYS[1] bucket; ARGV capacity, refill per ms. Returns {allowed, remaining, retryAfterMs, resetMs}. */
const TAKE = `
local cap = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local s = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = cap
if s[1] then
  tokens = math.min(cap, tonumber(s[1]) + (now - tonumber(s[2])) * rate)
end
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', now)
local reset = math.ceil((cap - tokens) / rate)
redis.call('PEXPIRE', KEYS[1], reset + 1000)
local retry = 0
if allowed == 0 then retry = math.ceil((1 - tokens) / rate) end
return {allowed, math.floor(tokens), retry, reset}
`;

/** KEYS[1] slot counter; ARGV max, ttl ms. */
const ACQUIRE = `
local n = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
if n > tonumber(ARGV[1]) then
  redis.call('DECR', KEYS[1])
  return 0
end
return 1
`;

/** KEYS[1] counter; ARGV units, limit. Returns {allowed, used}; -1 used = missing (seed first). */
const CONSUME = `
local cur = redis.call('GET', KEYS[1])
if not cur then return {0, -1} end
cur = tonumber(cur)
local units = tonumber(ARGV[1])
if cur + units > tonumber(ARGV[2]) then return {0, cur} end
return {1, redis.call('INCRBY', KEYS[1], units)}
`;

const RELEASE = `
local n = redis.call('DECR', KEYS[1])
if n <= 0 then redis.call('DEL', KEYS[1]) end
return n
`;

export class RedisLimiter implements Limiter {
  readonly kind = 'redis' as const;
  private readonly redis: Redis;

  /** `prefix` namespaces every key (tests use a fresh one per run). */
  constructor(
    url: string,
    private readonly prefix = 'inferd:rl:',
  ) {
    this.redis = new Redis(url, { maxRetriesPerRequest: 2, enableOfflineQueue: true });
  }

  async take(key: string, b: TokenBucket): Promise<RateDecision> {
    const r = (await this.redis.eval(
      TAKE,
      1,
      this.prefix + 'b:' + key,
      b.capacity,
      b.refillPerMs,
    )) as number[];
    return { allowed: r[0] === 1, remaining: r[1]!, retryAfterMs: r[2]!, resetMs: r[3]! };
  }

  async acquire(key: string, max: number, ttlMs: number): Promise<boolean> {
    return (await this.redis.eval(ACQUIRE, 1, this.prefix + 'c:' + key, max, ttlMs)) === 1;
  }

  async release(key: string): Promise<void> {
    await this.redis.eval(RELEASE, 1, this.prefix + 'c:' + key);
  }

  async consume(
    key: string,
    units: number,
    limit: number,
    expiresAt: number,
    seed: () => Promise<number>,
  ): Promise<QuotaDecision> {
    const k = this.prefix + 'q:' + key;
    let r = (await this.redis.eval(CONSUME, 1, k, units, limit)) as number[];
    if (r[1] === -1) {
      // NX: when replicas seed together, the first one wins and the others count on top of it.
      await this.redis.set(k, String(await seed()), 'PXAT', expiresAt, 'NX');
      r = (await this.redis.eval(CONSUME, 1, k, units, limit)) as number[];
    }
    return { allowed: r[0] === 1, used: r[1]! };
  }

  async refund(key: string, units: number): Promise<void> {
    const k = this.prefix + 'q:' + key;
    if ((await this.redis.exists(k)) === 1) await this.redis.decrby(k, units);
  }

  /** Deletes every key under the prefix (tests). */
  async clear(): Promise<void> {
    const keys = await this.redis.keys(this.prefix + '*');
    if (keys.length > 0) await this.redis.del(...keys);
  }

  async close(): Promise<void> {
    await this.redis.quit();
  }
}
