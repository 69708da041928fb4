/**
 * Which version answers a request, and whether it is mirrored: a stable hash of the sticky key (the
 * API key's id, else the request id) onto 10,000 buckets, so the same key always lands on the same
 * side for one rollout and the share is exact to 0.01 percent over many keys. Canary and shadow
 * hash with different salts so the mirrored share is independent of the canary share.
 */
import type { RolloutState } from './state.js';

export const BUCKETS = 10_000;

/** FNV-1a, 32-bit, over UTF-16 code units: fast, no allocation, well spread for short ids. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  // A final avalanche (murmur3's fmix32): FNV alone leaves sequential ids' low bits correlated.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The key's bucket in [0, BUCKETS) for this salt. */
export function bucketOf(salt: string, key: string): number {
  return fnv1a(`${salt}\u0000${key}`) % BUCKETS;
}

/** Percent (0-100) → buckets taken, rounded to the bucket. */
function threshold(percent: number): number {
  return Math.round(Math.min(100, Math.max(0, percent)) * (BUCKETS / 100));
}

/** The arm a request takes in a canary; the salt includes the candidate so a new rollout reshuffles. */
export function armOf(s: RolloutState, key: string): 'production' | 'candidate' {
  return bucketOf(`canary:${s.model}:${s.candidate}:${s.startedAt}`, key) < threshold(s.percent)
    ? 'candidate'
    : 'production';
}

/** True when a request production answers is mirrored to the candidate. */
export function mirrored(s: RolloutState, key: string): boolean {
  return bucketOf(`shadow:${s.model}:${s.candidate}:${s.startedAt}`, key) < threshold(s.shadowPercent);
}
