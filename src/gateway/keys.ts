/**
 * API key format: `ik_live_` or `ik_test_`, then 43 base62 characters of 32 random bytes (256 bits),
 * then a 6-character base62 CRC32 of everything before it. The checksum lets the gateway reject
 * typos and garbage without a database lookup (the idea of GitHub's token format). Only the SHA-256
 * of the full key is stored, with an 8-character display prefix of the random part.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { crc32 } from 'node:zlib';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** ceil(256 / log2(62)) = 43 characters hold any 32-byte value. */
const SECRET_CHARS = 43;
const CHECKSUM_CHARS = 6;
export const KEY_PATTERN = /^ik_(live|test)_([0-9A-Za-z]{43})([0-9A-Za-z]{6})$/;

export type KeyEnvironment = 'live' | 'test';

function base62(n: bigint, width: number): string {
  let s = '';
  while (n > 0n) {
    s = ALPHABET[Number(n % 62n)] + s;
    n /= 62n;
  }
  return s.padStart(width, '0');
}

function checksum(body: string): string {
  return base62(BigInt(crc32(body)), CHECKSUM_CHARS);
}

export interface GeneratedKey {
  /** The full key: shown once, never stored. */
  key: string;
  hash: string;
  prefix: string;
}

export function generateKey(env: KeyEnvironment = 'live'): GeneratedKey {
  const secret = base62(BigInt(`0x${randomBytes(32).toString('hex')}`), SECRET_CHARS);
  const body = `ik_${env}_${secret}`;
  const key = body + checksum(body);
  return { key, hash: hashKey(key), prefix: secret.slice(0, 8) };
}

/** True when the key has the right shape and its checksum matches (no I/O). */
export function isWellFormedKey(key: string): boolean {
  const m = KEY_PATTERN.exec(key);
  if (!m) return false;
  return checksum(key.slice(0, -CHECKSUM_CHARS)) === m[3];
}

/** Hex SHA-256; keys carry 256 random bits, so a fast unsalted hash is enough (no dictionary to attack). */
export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** Public key id, e.g. `key_3f2a9c0d1b7e4a55`. */
export function newKeyId(): string {
  return `key_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
}

/**
 * Longest duration accepted for a key lifetime or a rotation grace period: 100 years. Far beyond
 * any real use, and it keeps every expiry inside the range of a JavaScript Date (±8.64e15 ms), which
 * `99999999999d` was not: stored, it made every later listing fail.
 */
export const MAX_DURATION_MS = 36_500 * 86_400_000;

/** `30d`, `24h`, `15m`, `45s`, `500ms` → milliseconds, at most MAX_DURATION_MS. */
export function parseDuration(text: string): number {
  const m = /^(\d{1,16}(?:\.\d{1,6})?)(ms|s|m|h|d|w)$/.exec(text.trim());
  if (!m)
    throw new Error(
      `invalid duration '${text.slice(0, 40)}': use a number and a unit (ms, s, m, h, d, w), e.g. 30d`,
    );
  const unit = { ms: 1, s: 1e3, m: 60e3, h: 3600e3, d: 86400e3, w: 604800e3 }[m[2] as 'ms'];
  const ms = Math.round(Number(m[1]) * unit);
  if (!(ms <= MAX_DURATION_MS)) {
    throw new Error(
      `duration '${text.slice(0, 40)}' is too long: at most 36500d (100 years); leave the expiry out for a key that never expires`,
    );
  }
  return ms;
}

/** Largest |time| a Date can hold (ECMA-262 §21.4.1.22). */
const MAX_DATE_MS = 8.64e15;

/**
 * ISO 8601 for a stored time, or a marker for a value no Date can hold (a row written before the
 * bounds existed, or edited by hand): listings must work whatever one row holds.
 */
export function formatTime(ms: number): string {
  return Number.isFinite(ms) && Math.abs(ms) <= MAX_DATE_MS
    ? new Date(ms).toISOString()
    : `invalid time (${String(ms)})`;
}
