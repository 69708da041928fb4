/**
 * The one bound on client-supplied text that reaches a log line or an error message (model names,
 * versions, ids, URLs, input/output names, parameter keys, header values). Without it a request
 * with a 100 KB model name wrote a 100 KB log line and a 100 KB error body, and 11,000 of them
 * wrote 1.1 GB of log in 10 s (issue 23, finding 6). The text itself is kept as sent everywhere
 * else: only what we echo is cut.
 */

/** Characters kept: longer than any real model name, id or tensor name, short enough to log freely. */
const CLIP_CHARS = 128;

/**
 * Longest error message a client is sent (a backstop where messages leave the server, for client
 * text that reached one unclipped): room for a model's whole list of inputs, not for a megabyte.
 */
export const MESSAGE_CHARS = 2048;

/**
 * `text` when it is at most `max` characters, else its first `max` characters and a marker with the
 * full length, e.g. `aaaa…(+99872 chars)`. Never splits a surrogate pair. Non-strings are rendered
 * with String() first (a client can send a number where a name belongs).
 */
export function clip(text: unknown, max = CLIP_CHARS): string {
  const s = typeof text === 'string' ? text : String(text);
  if (s.length <= max) return s;
  let end = max;
  const last = s.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1; // a high surrogate whose pair would be cut off
  return `${s.slice(0, end)}…(+${s.length - end} chars)`;
}
