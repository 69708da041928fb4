/**
 * The access policy (access-policy.ts) applied to one server's settings: what each category needs,
 * the admin-token check every transport uses, and the customer gate for customer-key categories.
 * Transport-neutral: callers pass the Authorization value (HTTP header or gRPC metadata).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { InferdError } from '../errors.js';
import {
  CATEGORY_NAMES,
  credentialFor,
  type AccessSettings,
  type ApiCategory,
  type Credential,
} from './access-policy.js';
import type { CustomerGate } from './customer-gate.js';

export interface AccessControl {
  /** The credential a category needs on this server. */
  credential(category: ApiCategory): Credential;
  /**
   * Returns when `authorization` is `Bearer <admin token>`; throws `unauthenticated` (401) when no
   * token was sent and `forbidden` (403) when it is wrong or this server has no admin token.
   */
  requireAdmin(authorization: string | undefined, category: ApiCategory): void;
  /** Customer keys, limits and metering, for the customer-key categories (undefined with auth off). */
  readonly gate?: CustomerGate;
  /**
   * The Authorization value a portal session cookie stands for (undefined without a live session);
   * throws when a state-changing request lacks the session's CSRF token. Transports without
   * cookies (gRPC, the raw infer route) never call it.
   */
  readonly session?: SessionAuthorizer;
}

type SessionAuthorizer = (method: string, headers: IncomingHttpHeaders) => string | undefined;

export interface AccessOptions extends AccessSettings {
  adminToken?: string;
  gate?: CustomerGate;
  session?: SessionAuthorizer;
}

const BEARER = /^Bearer +(\S+)$/i;

/** Compares SHA-256 digests, so the comparison takes the same time whatever the lengths. */
export function sameToken(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

export function accessControl(opts: AccessOptions): AccessControl {
  const settings: AccessSettings = { auth: opts.auth, v2Auth: opts.v2Auth };
  // Computed once: the fastify hook asks on every request.
  const cache = new Map<ApiCategory, Credential>();
  const credential = (c: ApiCategory): Credential => {
    let v = cache.get(c);
    if (v === undefined) {
      v = credentialFor(c, settings);
      cache.set(c, v);
    }
    return v;
  };
  if (opts.auth === 'on' && credential('inference') === 'customer-key' && !opts.gate) {
    throw new Error('access control: customer keys are required but no customer gate was given');
  }
  return {
    credential,
    gate: opts.gate,
    session: opts.session,
    requireAdmin(authorization, category) {
      const what = CATEGORY_NAMES[category];
      if (opts.adminToken === undefined) {
        throw new InferdError(
          'forbidden',
          `${what} needs the admin token and this server has none: start it with --admin-token (env INFERD_ADMIN_TOKEN, at least 16 characters), then send Authorization: Bearer <token>`,
        );
      }
      const m = BEARER.exec(authorization ?? '');
      if (!m) {
        throw new InferdError(
          'unauthenticated',
          `${what} needs the admin token: send Authorization: Bearer <token>`,
          { headers: { 'www-authenticate': 'Bearer realm="inferd-admin"' } },
        );
      }
      if (!sameToken(m[1]!, opts.adminToken)) {
        throw new InferdError('forbidden', `not the admin token; ${what} needs the admin token`);
      }
    },
  };
}
