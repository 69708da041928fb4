/**
 * Calls to an object store: each attempt bounded by a timeout, transient failures (network, 5xx,
 * 429, timeouts) tried again with exponential backoff and jitter, the last failure turned into one
 * `repository_unavailable` error a person can act on.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { InferdError } from '../../errors.js';
import type { BucketClient } from './bucket.js';

export interface RetryPolicy {
  /** Attempts in all (1 = no retry). */
  attempts: number;
  /** First backoff; doubles each time, with up to 50% jitter. */
  baseDelayMs: number;
  /** One attempt's bound (a list request; a download's longest stall). */
  timeoutMs: number;
}

/** A failure of ours that another attempt may cure (short read, bad checksum, stall). */
export class RetryableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RetryableError';
  }
}

export async function withRetries<T>(
  client: BucketClient,
  what: string,
  policy: RetryPolicy,
  attempt: (signal: AbortSignal) => Promise<T>,
  /** False for downloads: they abort on a stall themselves, however long the whole file takes. */
  bounded = true,
): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await attempt(bounded ? AbortSignal.timeout(policy.timeoutMs) : new AbortController().signal);
    } catch (err) {
      // Our own refusals (size, checksum, bounds) are final and already say what to do.
      if (err instanceof InferdError) throw err;
      const failure =
        err instanceof RetryableError ? { message: err.message, transient: true } : client.explain(err, what);
      if (!failure.transient || i >= policy.attempts) {
        const tries = i > 1 ? ` (after ${i} attempts)` : '';
        throw new InferdError('repository_unavailable', `${failure.message}${tries}`, { cause: err });
      }
      const delay = policy.baseDelayMs * 2 ** (i - 1);
      await sleep(delay + Math.random() * delay * 0.5);
    }
  }
}
