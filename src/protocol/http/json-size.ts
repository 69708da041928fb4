/**
 * The worst-case length of a response's JSON text, checked before it is built. A JSON response is
 * one string, and V8 refuses strings longer than `buffer.constants.MAX_STRING_LENGTH` (2^29 − 24
 * characters on 64-bit Node): past it JSON.stringify throws "Invalid string length" after having
 * built most of the text. The service bounds output bytes (--max-response-bytes); this bounds what
 * JSON makes of them, which depends on the datatype: 4 bytes of FP32 can take 26 characters.
 */
import { constants } from 'node:buffer';
import type { BytesData, Datatype, Tensor } from '../../core/tensor.js';
import { InferdError } from '../../errors.js';

/**
 * Longest JSON text of one element, with its separating comma. Numbers are written by JavaScript's
 * Number#toString: at most 17 significant digits, so `-0.0000012345678901234567` (25 characters)
 * or `-1.2345678901234567e-308` (24); NaN and infinities are shorter ("-Infinity" with quotes, 11).
 * 64-bit integers go through Number (`-9223372036854776000`, 20).
 */
const WORST_CHARS: Record<Exclude<Datatype, 'BYTES'>, number> = {
  BOOL: 6, // false,
  UINT8: 4, // 255,
  INT8: 5, // -128,
  UINT16: 6, // 65535,
  INT16: 7, // -32768,
  UINT32: 11, // 4294967295,
  INT32: 12, // -2147483648,
  UINT64: 21,
  INT64: 21,
  FP16: 26,
  BF16: 26,
  FP32: 26,
  FP64: 26,
};

/** Per BYTES element: quotes and comma, then each byte at worst a `\u00XX` escape. */
const BYTES_ELEMENT_CHARS = 3;
const BYTES_CHARS_PER_BYTE = 6;

/** Room left for the envelope (model name, version, output names, shapes, parameters). */
const ENVELOPE_CHARS = 1024 * 1024;

/** The longest JSON text a response may be (V8's string limit, less room for the envelope). */
const JSON_TEXT_LIMIT = constants.MAX_STRING_LENGTH - ENVELOPE_CHARS;

/** An upper bound of the characters `t`'s data takes in JSON. */
function worstJsonChars(t: Tensor): number {
  if (t.datatype !== 'BYTES') return t.data.length * WORST_CHARS[t.datatype];
  const d = t.data as BytesData;
  return BYTES_ELEMENT_CHARS * d.length + BYTES_CHARS_PER_BYTE * d.byteLength;
}

/**
 * Refuses with `response_too_large` when the tensors could make a JSON text over the limit;
 * `otherChars` counts client-given text the response repeats (its `id`), at worst escaped.
 */
export function assertJsonFits(
  tensors: readonly Tensor[],
  otherChars = 0,
  maxResponseBytes = JSON_TEXT_LIMIT,
): void {
  // --max-response-bytes bounds a response in the encoding it is sent in: for JSON, the longest
  // text its values could take. Without it a 42 MB ocr-rec output became 252 MB of JSON, and
  // writing it held the event loop (health checks included) for seconds.
  const limit = Math.min(JSON_TEXT_LIMIT, maxResponseBytes);
  let total = BYTES_CHARS_PER_BYTE * otherChars;
  for (const t of tensors) total += worstJsonChars(t) + BYTES_CHARS_PER_BYTE * t.name.length;
  if (total <= limit) return;
  throw new InferdError(
    'response_too_large',
    `the outputs could take ${total} characters as JSON, more than a JSON response can hold (${limit}, --max-response-bytes): ask for binary outputs (parameter "binary_data_output": true, or gRPC), fewer rows per request, or fewer outputs ("outputs")`,
  );
}
