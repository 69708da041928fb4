/**
 * apiKeyAuth(): `Authorization: Bearer <key>` only. The checksum is verified before any lookup;
 * lookups are cached for at most `cacheTtlMs` (≤ 1 s) so a revoked key stops working within a second
 * on every replica without a shared invalidation channel. Keys are never logged (the logger redacts
 * the authorization header; problem bodies carry only the path).
 */
import type { FastifyRequest } from 'fastify';
import { InferdError } from '../errors.js';
import type { ApiKeyRecord, Store } from './store/types.js';
import { hashKey, isWellFormedKey } from './keys.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated key on /v1 routes (undefined when auth is off). */
    apiKey?: ApiKeyRecord;
  }
}

/** Query parameters that look like someone put a key in the URL. */
const QUERY_KEY_NAMES = ['api_key', 'apikey', 'key', 'access_token', 'token'];

export interface AuthOptions {
  store: Store;
  /** Longest time a key lookup is reused; revocation takes effect within it. Max 1000. */
  cacheTtlMs?: number;
  now?: () => number;
}

export type Authenticate = (req: FastifyRequest) => Promise<ApiKeyRecord>;

export function apiKeyAuth(opts: AuthOptions): Authenticate {
  const ttl = Math.min(opts.cacheTtlMs ?? 500, 1000);
  const now = opts.now ?? Date.now;
  const cache = new Map<string, { rec: ApiKeyRecord | undefined; at: number }>();

  async function lookup(hash: string): Promise<ApiKeyRecord | undefined> {
    const t = now();
    const hit = cache.get(hash);
    if (hit && t - hit.at < ttl) return hit.rec;
    const rec = await opts.store.findKeyByHash(hash);
    if (cache.size > 10_000) cache.clear();
    cache.set(hash, { rec, at: t });
    return rec;
  }

  return async (req) => {
    const q = req.query as Record<string, unknown> | undefined;
    if (q && QUERY_KEY_NAMES.some((n) => n in q)) {
      throw new InferdError(
        'invalid_request',
        'API keys are not accepted in the URL (URLs end up in logs and browser history); send the header Authorization: Bearer <key> and revoke the key you sent',
      );
    }
    const header = req.headers.authorization;
    if (header === undefined || header === '') {
      throw new InferdError(
        'unauthenticated',
        'send your API key in the header Authorization: Bearer <key>',
        {
          headers: { 'www-authenticate': 'Bearer realm="inferd"' },
        },
      );
    }
    const m = /^Bearer +(\S+)$/i.exec(header);
    if (!m) {
      throw new InferdError('invalid_api_key', 'the Authorization header must be "Bearer <key>"', {
        headers: { 'www-authenticate': 'Bearer realm="inferd", error="invalid_token"' },
      });
    }
    const key = m[1]!;
    const invalid = () =>
      new InferdError('invalid_api_key', 'the API key is not valid', {
        headers: { 'www-authenticate': 'Bearer realm="inferd", error="invalid_token"' },
      });
    if (!isWellFormedKey(key)) throw invalid();
    const rec = await lookup(hashKey(key));
    if (!rec) throw invalid();
    const t = now();
    if (rec.revokedAt !== null && rec.revokedAt <= t) {
      throw new InferdError('revoked_api_key', `API key ${rec.id} was revoked`);
    }
    if (rec.expiresAt !== null && rec.expiresAt <= t) {
      throw new InferdError(
        'expired_api_key',
        `API key ${rec.id} expired at ${new Date(rec.expiresAt).toISOString()}`,
      );
    }
    return rec;
  };
}

/** 403 unless the key's scopes include the model (null scopes = every model). */
export function requireScope(key: ApiKeyRecord, model: string): void {
  if (key.scopes !== null && !key.scopes.includes(model)) {
    throw new InferdError('forbidden', `API key ${key.id} may not call model '${model}'`);
  }
}
