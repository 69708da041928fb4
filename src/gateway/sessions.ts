/**
 * Portal sessions: the browser exchanges an API key or the admin token once (POST /session) for a
 * random session id in an HttpOnly, SameSite=Strict cookie, so the secret never sits in page
 * script or localStorage. The session holds the credential in this process's memory and stands in
 * for `Authorization: Bearer <credential>` on later requests (the access policy and the customer
 * gate then check it as if the client had sent it, so revoking a key ends its sessions within the
 * gate's cache time). State-changing requests must carry the session's CSRF token in `x-csrf-token`
 * and, when the browser sends one, a same-origin `Origin` (docs/portal.md).
 *
 * Memory, not the store: a session is a copy of a secret the client already holds, and losing it
 * only means signing in again. Several replicas need sticky sessions (or one sign-in per replica).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { InferdError } from '../errors.js';

export const SESSION_COOKIE = 'inferd_session';
/** 32 random bytes as base64url: 43 characters. */
const ID_PATTERN = /^[A-Za-z0-9_-]{43}$/;
/** Longest credential accepted at sign-in: keys are 57 characters, admin tokens rarely past 100. */
export const MAX_CREDENTIAL_CHARS = 512;

export type SessionKind = 'customer' | 'admin';

export interface Session {
  id: string;
  kind: SessionKind;
  /** The API key or admin token; never leaves this process. */
  credential: string;
  /** The key's id for customer sessions. */
  keyId?: string;
  csrf: string;
  createdAt: number;
  lastSeenAt: number;
}

export interface SessionOptions {
  /** Sessions held at once; the least recently created is dropped beyond it. */
  maxSessions?: number;
  /** A session unused this long ends. */
  idleMs?: number;
  /** A session ends this long after sign-in whatever its use. */
  maxAgeMs?: number;
  now?: () => number;
}

const token = (): string => randomBytes(32).toString('base64url');

function same(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

export class SessionStore {
  private readonly sessions = new Map<string, Session>();
  readonly maxSessions: number;
  readonly idleMs: number;
  readonly maxAgeMs: number;
  private readonly now: () => number;

  constructor(o: SessionOptions = {}) {
    this.maxSessions = o.maxSessions ?? 10_000;
    this.idleMs = o.idleMs ?? 8 * 3_600_000;
    this.maxAgeMs = o.maxAgeMs ?? 24 * 3_600_000;
    this.now = o.now ?? Date.now;
  }

  get size(): number {
    return this.sessions.size;
  }

  create(kind: SessionKind, credential: string, keyId?: string): Session {
    while (this.sessions.size >= this.maxSessions) {
      const oldest = this.sessions.keys().next().value as string;
      this.sessions.delete(oldest);
    }
    const t = this.now();
    const s: Session = { id: token(), kind, credential, keyId, csrf: token(), createdAt: t, lastSeenAt: t };
    this.sessions.set(s.id, s);
    return s;
  }

  /** The live session for a cookie value, or undefined (unknown, malformed or expired). */
  get(id: string | undefined): Session | undefined {
    if (id === undefined || !ID_PATTERN.test(id)) return undefined;
    const s = this.sessions.get(id);
    if (!s) return undefined;
    const t = this.now();
    if (t - s.lastSeenAt >= this.idleMs || t - s.createdAt >= this.maxAgeMs) {
      this.sessions.delete(id);
      return undefined;
    }
    s.lastSeenAt = t;
    return s;
  }

  delete(id: string | undefined): void {
    if (id !== undefined) this.sessions.delete(id);
  }

  /** Throws `forbidden` unless `given` is the session's CSRF token. */
  checkCsrf(s: Session, given: string | undefined): void {
    if (given === undefined || given.length > 128 || !same(given, s.csrf)) {
      throw new InferdError(
        'forbidden',
        'a signed-in page must send its CSRF token in the x-csrf-token header on requests that change state; reload the page',
      );
    }
  }
}

/** The value of one cookie in a Cookie header (RFC 6265 §5.4), or undefined. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header || header.length > 16_384) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
