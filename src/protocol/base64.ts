/**
 * Strict base64 (RFC 4648 §4): the standard alphabet, padded with `=` to a multiple of four
 * characters, nothing else (no whitespace, no URL-safe letters). Node's decoder skips what it does
 * not understand, so `"!!!"` would decode to nothing without this check.
 */
const ALPHABET = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/')
  ALPHABET[c.charCodeAt(0)] = 1;
const PAD = 0x3d; // '='

/** Decoded size in bytes of a valid base64 string, or -1 when it is not strict base64. */
export function base64Size(s: string): number {
  const n = s.length;
  if (n % 4 !== 0) return -1;
  if (n === 0) return 0;
  let pad = 0;
  if (s.charCodeAt(n - 1) === PAD) pad = s.charCodeAt(n - 2) === PAD ? 2 : 1;
  for (let i = 0; i < n - pad; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || ALPHABET[c] === 0) return -1;
  }
  return (n / 4) * 3 - pad;
}
