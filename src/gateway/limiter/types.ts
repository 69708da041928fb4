/**
 * Rate-limit state behind one interface: in-process (one replica) or Redis (shared by replicas).
 * Both run the same conformance suite (test/gateway/limiter-conformance.ts). Time is milliseconds.
 */

export interface TokenBucket {
  /** Largest number of tokens (the burst). */
  capacity: number;
  /** Tokens added per millisecond (requests per minute / 60 000). */
  refillPerMs: number;
}

export interface RateDecision {
  allowed: boolean;
  /** Whole tokens left after this request. */
  remaining: number;
  /** When denied: ms until one token is available; 0 when allowed. */
  retryAfterMs: number;
  /** ms until the bucket is full again. */
  resetMs: number;
}

export interface QuotaDecision {
  allowed: boolean;
  /** Units used in the window, including this call when allowed. */
  used: number;
}

export interface Limiter {
  readonly kind: 'memory' | 'redis';
  /** Takes one token from the bucket under `key`; a new key starts full. */
  take(key: string, bucket: TokenBucket): Promise<RateDecision>;
  /** Claims one of `max` concurrent slots; false when all are taken. `ttlMs` bounds a leaked slot. */
  acquire(key: string, max: number, ttlMs: number): Promise<boolean>;
  release(key: string): Promise<void>;
  /**
   * Adds `units` to the counter under `key` unless that would pass `limit`. A missing counter is
   * first set to `seed()` (units already recorded in the store for this window), expiring at
   * `expiresAt` (ms epoch, the end of the window).
   */
  consume(
    key: string,
    units: number,
    limit: number,
    expiresAt: number,
    seed: () => Promise<number>,
  ): Promise<QuotaDecision>;
  /** Gives back units charged for a call that then failed. */
  refund(key: string, units: number): Promise<void>;
  close(): Promise<void>;
}
