/**
 * The reliability suite's knobs, in one place: the profile, the server settings the hardening work
 * added (by environment name, so that a name this build does not know is ignored rather than
 * refused), the admin token, the bounds the acceptance checks use, and the cases whose fix is not on
 * this branch yet.
 *
 * After merging the hardening branches: check the INFERD_* names below against
 * SETTING_SOURCES in src/config.ts, and empty PENDING_CASES (or run with RELIABILITY_STRICT=1).
 */

export type Profile = 'short' | 'long';

/** `short` runs inside `npm test`; `long` is `npm run test:reliability` (docs/reliability.md). */
export const PROFILE: Profile = process.env.RELIABILITY_PROFILE === 'long' ? 'long' : 'short';

/** Run and enforce every case, including PENDING_CASES. */
export const STRICT = process.env.RELIABILITY_STRICT === '1';

/** Numbers per profile; each part reads its own. */
export const SIZES = {
  short: {
    fuzzRuns: 300,
    capacityS: 2,
    soakS: 6,
    reloads: 10,
    meteredS: 3,
    slowConnections: 6,
    stalledUploads: 4,
    stalledUploadBytes: 8 * 1024 * 1024,
    capExcess: 8,
    streamBackpressureRequests: 80,
  },
  long: {
    fuzzRuns: 5000,
    capacityS: 5,
    soakS: 60,
    reloads: 100,
    meteredS: 10,
    slowConnections: 15,
    stalledUploads: 20,
    stalledUploadBytes: 40 * 1024 * 1024,
    capExcess: 40,
    streamBackpressureRequests: 200,
  },
}[PROFILE];

/** At least 16 characters (src/config.ts); every suite server starts with it. */
export const ADMIN_TOKEN = 'reliability-suite-admin-token-0001';

/** How the admin token travels on HTTP and as gRPC metadata (issue 23 #2). */
export const ADMIN_HEADER = { name: 'authorization', value: `Bearer ${ADMIN_TOKEN}` };

/** How a customer key travels on /v1, /v2 and gRPC. */
export const keyHeader = (key: string): { name: string; value: string } => ({
  name: 'authorization',
  value: `Bearer ${key}`,
});

/**
 * Transport limits (issue 23 #3) for the servers that test them: small, so that a stalled
 * connection is closed within seconds. Values in ms / counts.
 */
export const TIMEOUTS = {
  headersMs: 2_000,
  bodyMs: 3_000,
  idleMs: 5_000,
  maxConnections: 64,
};

export const TRANSPORT_ENV: Record<string, string> = {
  INFERD_HEADERS_TIMEOUT_MS: String(TIMEOUTS.headersMs),
  INFERD_BODY_TIMEOUT_MS: String(TIMEOUTS.bodyMs),
  INFERD_IDLE_TIMEOUT_MS: String(TIMEOUTS.idleMs),
  INFERD_MAX_CONNECTIONS: String(TIMEOUTS.maxConnections),
};

/** Slack over a configured timeout before a connection counts as hung (2 cores, shared). */
export const TIMEOUT_SLACK_MS = 4_000;

/** A liveness probe slower than this during an attack is a freeze. */
export const LIVE_BOUND_MS = 3_000;

/** A single hostile request must be answered within this (else it is hung and the server killed). */
export const ANSWER_BOUND_MS = 20_000;

/** Longest accepted log line: bounded client strings (issue 23 #6). */
export const MAX_LOG_LINE_BYTES = 8 * 1024;

/** Longest accepted error message in an answer. */
export const MAX_ERROR_MESSAGE_BYTES = 2 * 1024;

/** RSS after the soak may exceed RSS before it by this fraction at most (issue 23 acceptance). */
export const RSS_GROWTH_LIMIT = 0.2;

/**
 * Cases whose fix is on another hardening branch, by case id (corpus/*.ts and the parts): each of
 * them fails on the build before issue 23 (measured: RELIABILITY_STRICT=1 on main). In the short
 * profile corpus cases in this list are skipped; everywhere their failures are shown in the table's
 * last column without failing the run. RELIABILITY_STRICT=1 ignores this list. Empty it once the
 * branches are merged.
 */
const PENDING_CASES = new Set<string>([
  // Empty: every hardening branch is merged, so every case must pass.
]);

export function isPending(id: string): boolean {
  return !STRICT && PENDING_CASES.has(id);
}

/**
 * How a pending case shows in a fuzzer's answer (its text): such an answer is counted as that
 * case's pending failure and fuzzing goes on, instead of stopping at a failure fixed elsewhere.
 */
export const PENDING_SIGNATURES: Array<[string, RegExp]> = [];
