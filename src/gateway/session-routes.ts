/**
 * Session routes for the portal (category `portal` in the access policy; they check credentials
 * themselves): POST /session exchanges an API key or the admin token for a session cookie, GET
 * /session says who is signed in (and hands the page its CSRF token), DELETE /session signs out.
 * `sessionAuthorizer` turns a session cookie into the Authorization value the access policy and
 * the customer gate check, on every other route (src/protocol/rest/app.ts calls it).
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { InferdError } from '../errors.js';
import { parseJsonBody } from '../protocol/http/json-body.js';
import type { Authenticate } from './auth.js';
import { publicKey } from './key-admin.js';
import { sendProblem } from './problem.js';
import {
  cookieValue,
  MAX_CREDENTIAL_CHARS,
  SESSION_COOKIE,
  type Session,
  type SessionStore,
} from './sessions.js';

export interface SessionRouteOptions {
  sessions: SessionStore;
  /** Checks an API key (undefined with auth off: no customer sessions). */
  authenticate?: Authenticate;
  /** True when `token` is this server's admin token (false when it has none). */
  isAdminToken: (token: string) => boolean;
  /** 'off': the customer API needs no key (local mode). */
  auth: 'on' | 'off';
  /** True when the admin API and operator routes exist behind a token. */
  hasAdminToken: boolean;
}

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * A cross-site page cannot read our responses, but it can send requests; the CSRF token and the
 * Origin check refuse those that change state. Origin is compared by host (scheme aside: a proxy
 * may end TLS in front of us).
 */
function checkOrigin(headers: IncomingHttpHeaders): void {
  const origin = headers.origin;
  if (origin === undefined) return;
  let host: string | undefined;
  try {
    host = new URL(origin).host;
  } catch {
    host = undefined;
  }
  if (host === undefined || host !== headers.host) {
    throw new InferdError('forbidden', 'cross-origin requests may not use a portal session');
  }
}

/** The Authorization value a session cookie stands for, or undefined; throws on a CSRF failure. */
export function sessionAuthorizer(sessions: SessionStore) {
  return (method: string, headers: IncomingHttpHeaders): string | undefined => {
    const s = sessions.get(cookieValue(headers.cookie, SESSION_COOKIE));
    if (!s) return undefined;
    if (!SAFE.has(method)) {
      checkOrigin(headers);
      const t = headers['x-csrf-token'];
      sessions.checkCsrf(s, typeof t === 'string' ? t : undefined);
    }
    return `Bearer ${s.credential}`;
  };
}

/**
 * Secure when the request came over TLS, or through a proxy that says it did (X-Forwarded-Proto):
 * a browser drops a Secure cookie set over plain http, so it cannot be set unconditionally, and a
 * forged header only breaks the forger's own sign-in.
 */
function secure(req: FastifyRequest): boolean {
  const xfp = req.headers['x-forwarded-proto'];
  const first = (Array.isArray(xfp) ? xfp[0] : xfp)?.split(',')[0]?.trim().toLowerCase();
  return (req.raw.socket as { encrypted?: boolean }).encrypted === true || first === 'https';
}

function setCookie(req: FastifyRequest, reply: FastifyReply, value: string, maxAgeS: number): void {
  const attrs = [`${SESSION_COOKIE}=${value}`, 'Path=/', 'HttpOnly', 'SameSite=Strict', `Max-Age=${maxAgeS}`];
  if (secure(req)) attrs.push('Secure');
  void reply.header('set-cookie', attrs.join('; '));
}

const signInBody = z.object({ token: z.string().min(1).max(MAX_CREDENTIAL_CHARS) });

export function registerSessionRoutes(app: FastifyInstance, o: SessionRouteOptions): void {
  const describeSession = async (s: Session | undefined) => {
    const base = { auth: o.auth, admin_api: o.hasAdminToken };
    if (!s) return { ...base, signed_in: false };
    let key;
    if (s.kind === 'customer' && o.authenticate) {
      try {
        key = publicKey(await o.authenticate({ authorization: `Bearer ${s.credential}` }));
      } catch {
        // Revoked or expired since sign-in: the session ends with the key.
        o.sessions.delete(s.id);
        return { ...base, signed_in: false };
      }
    }
    return { ...base, signed_in: true, kind: s.kind, csrf_token: s.csrf, key };
  };

  app.register(async (r) => {
    r.setErrorHandler((err, req, reply) => sendProblem(err, req, reply));
    r.post('/session', async (req, reply) => {
      checkOrigin(req.headers);
      if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
        throw new InferdError(
          'invalid_request',
          'send {"token": "<API key or admin token>"} as application/json',
        );
      }
      const raw =
        req.body instanceof Buffer && req.body.length > 0
          ? parseJsonBody(req.body, { maxValues: 64, why: 'a sign-in holds one field' })
          : {};
      const parsed = signInBody.safeParse(raw);
      if (!parsed.success) {
        throw new InferdError(
          'invalid_request',
          `send {"token": "<API key or admin token>"}, at most ${MAX_CREDENTIAL_CHARS} characters`,
        );
      }
      const credential = parsed.data.token.trim();
      let s: Session;
      if (o.isAdminToken(credential)) s = o.sessions.create('admin', credential);
      else if (o.authenticate) {
        const key = await o.authenticate({ authorization: `Bearer ${credential}` });
        s = o.sessions.create('customer', credential, key.id);
      } else {
        throw new InferdError(
          'invalid_request',
          o.hasAdminToken
            ? 'not the admin token; with auth off the playground needs no sign-in'
            : 'auth is off and this server has no admin token: nothing to sign in to',
        );
      }
      // The old session, if any, ends: one cookie, one session.
      o.sessions.delete(cookieValue(req.headers.cookie, SESSION_COOKIE));
      setCookie(req, reply, s.id, Math.floor(o.sessions.maxAgeMs / 1000));
      return reply.code(201).send(await describeSession(s));
    });
    r.get('/session', async (req) =>
      describeSession(o.sessions.get(cookieValue(req.headers.cookie, SESSION_COOKIE))),
    );
    r.delete('/session', async (req, reply) => {
      const id = cookieValue(req.headers.cookie, SESSION_COOKIE);
      const s = o.sessions.get(id);
      if (s) {
        checkOrigin(req.headers);
        const t = req.headers['x-csrf-token'];
        o.sessions.checkCsrf(s, typeof t === 'string' ? t : undefined);
        o.sessions.delete(id);
      }
      setCookie(req, reply, '', 0);
      return reply.code(204).send();
    });
  });
}
