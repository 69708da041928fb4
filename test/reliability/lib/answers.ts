/**
 * What a well-formed answer is, for every transport, in one place (the suite's oracle):
 * - a success (2xx / gRPC OK);
 * - an error with a stable `code` from the catalogue (src/errors.ts) whose status matches the
 *   answer's, a message a person can act on (bounded, no server paths, stack frames or library
 *   text);
 * - a 5xx only when documented (docs/errors.md): refusals and availability, never a crash text.
 * Each check returns the problems it found, as short kinds the results table counts.
 */
import { ERROR_CATALOGUE, type ErrorCode } from '../../../src/errors.js';
import { MAX_ERROR_MESSAGE_BYTES } from '../settings.js';

/** 5xx codes that are answers, not faults (refusals, availability, client-side deadlines). */
export const DOCUMENTED_5XX = new Set<string>([
  'queue_full',
  'model_unavailable',
  'server_draining',
  'deadline_exceeded',
  'unsupported',
  'too_many_connections',
  'body_buffer_full',
]);

/** Codes that mean "come back later": counted as refusals, not failures. */
export const REFUSALS = new Set<string>([
  'queue_full',
  'rate_limited',
  'quota_exceeded',
  'server_draining',
  'too_many_connections',
  'body_buffer_full',
]);

/**
 * Text that must not reach a client: absolute server paths, stack frames, source locations,
 * library internals (libvips, librsvg, fastify's error shape, V8 messages).
 */
const INTERNALS: Array<[RegExp, string]> = [
  [/(?:^|[\s'"(=:])\/(?:tmp|home|work|usr|opt|root|var|proc|srv|app|mnt)\/[^\s'"]*/, 'absolute path'],
  [/node_modules|onnxruntime_src|\/onnxruntime\//i, 'library path'],
  [/\.(?:cc|cpp|h|hpp|c|js|mjs|ts):\d+/, 'source location'],
  [/\n\s+at \S+/, 'stack trace'],
  [
    /\bvips\w*|librsvg|rsvg|libpng|libjpeg|svgload|\bglib\b|cairo|Input buffer (?:has|contains)/i,
    'image library text',
  ],
  [/FST_ERR_|"statusCode"/, 'fastify error shape'],
  [
    /Maximum call stack|Invalid string length|Array buffer allocation failed|out of memory/i,
    'V8 failure text',
  ],
];

export function leakedInternals(text: string, extraSecrets: string[] = []): string | undefined {
  for (const [re, kind] of INTERNALS) if (re.test(text)) return kind;
  for (const s of extraSecrets) if (s && text.includes(s)) return 'absolute path';
  return undefined;
}

function isCatalogued(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.prototype.hasOwnProperty.call(ERROR_CATALOGUE, code);
}

export interface HttpVerdict {
  /** "200", "400 invalid_input", "413 payload_too_large", "400 (no code)", … */
  key: string;
  code?: string;
  message?: string;
  /** Failure kinds; empty when the answer is well-formed. */
  problems: string[];
}

/**
 * Checks one HTTP answer. `/v2` errors are `{error, code}`; `/v1` and `/admin` errors are RFC 9457
 * problem details (`detail`, `code`); both must carry a catalogued code matching the status.
 */
export function checkHttp(status: number, body: Buffer | string, secrets: string[] = []): HttpVerdict {
  const text = typeof body === 'string' ? body : body.toString('utf8', 0, Math.min(body.length, 256 * 1024));
  if (status >= 200 && status < 300) return { key: String(status), problems: [] };
  const problems: string[] = [];
  let code: string | undefined;
  let message: string | undefined;
  try {
    const parsed = JSON.parse(text) as { code?: unknown; error?: unknown; detail?: unknown };
    if (typeof parsed.code === 'string') code = parsed.code;
    const m = parsed.error ?? parsed.detail;
    if (typeof m === 'string') message = m;
  } catch {
    // not JSON: no code
  }
  if (!isCatalogued(code)) {
    problems.push(status < 500 ? '4xx without code' : '5xx without code');
  } else if (ERROR_CATALOGUE[code].http !== status) {
    problems.push('code/status mismatch');
  }
  if (status >= 500 && !(code !== undefined && DOCUMENTED_5XX.has(code))) problems.push('undocumented 5xx');
  if (message !== undefined && Buffer.byteLength(message) > MAX_ERROR_MESSAGE_BYTES)
    problems.push('unbounded message');
  const leak = leakedInternals(text, secrets);
  if (leak) problems.push(`leaked ${leak}`);
  return { key: isCatalogued(code) ? `${status} ${code}` : `${status} (no code)`, code, message, problems };
}

export interface GrpcVerdict {
  key: string;
  code?: string;
  problems: string[];
}

/** grpc-js answers for some malformed calls before our handlers run (see docs/reliability.md). */
const GRPC_LIBRARY_ANSWERS: Array<[number, RegExp]> = [
  [8, /Received message larger than max/i], // RESOURCE_EXHAUSTED: message over the size limit
  [13, /^Error deserializing request/i], // INTERNAL: bytes that are not the request message
];

/** Checks one gRPC status (code, details, the `inferd-error-code` trailer). */
export function checkGrpc(
  status: number,
  details: string,
  trailerCode: string | undefined,
  secrets: string[] = [],
): GrpcVerdict {
  if (status === 0) return { key: 'OK', problems: [] };
  if (!trailerCode) {
    const library = GRPC_LIBRARY_ANSWERS.some(([s, re]) => s === status && re.test(details));
    if (library) return { key: `${status} (grpc-js)`, problems: [] };
    return { key: `${status} (no code)`, problems: ['error without code'] };
  }
  const problems: string[] = [];
  if (!isCatalogued(trailerCode)) problems.push('error without code');
  else if (ERROR_CATALOGUE[trailerCode].grpc !== status) problems.push('code/status mismatch');
  if ((status === 13 || status === 2) && !DOCUMENTED_5XX.has(trailerCode))
    problems.push('undocumented INTERNAL');
  if (Buffer.byteLength(details) > MAX_ERROR_MESSAGE_BYTES) problems.push('unbounded message');
  const leak = leakedInternals(details, secrets);
  if (leak) problems.push(`leaked ${leak}`);
  return { key: `${status} ${trailerCode}`, code: trailerCode, problems };
}

/** Log lines at level error (50) or above that carry a stack: faults logged for a client's mistake. */
export function loggedStacks(log: string): number {
  let n = 0;
  for (const line of log.split('\n')) {
    if (!line.startsWith('{')) continue;
    if (/"level":(5\d|60)/.test(line) && /"stack":/.test(line)) n += 1;
  }
  return n;
}
