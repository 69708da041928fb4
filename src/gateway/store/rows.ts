/** Row ↔ record mapping shared by the SQL stores (both use the same column names). */
import type { ApiKeyRecord, UsageRecord, UsageTotal } from './types.js';

export interface KeyRow {
  id: string;
  prefix: string;
  hash: string;
  name: string;
  owner: string | null;
  plan: string;
  scopes: string | null;
  created_at: number | string;
  expires_at: number | string | null;
  revoked_at: number | string | null;
  rotated_from: string | null;
}

/** pg returns BIGINT as strings (it may exceed 2^53); our millisecond times never do. */
const num = (v: number | string): number => (typeof v === 'number' ? v : Number(v));
const numOrNull = (v: number | string | null): number | null => (v === null ? null : num(v));

export function keyFromRow(r: KeyRow): ApiKeyRecord {
  return {
    id: r.id,
    prefix: r.prefix,
    hash: r.hash,
    name: r.name,
    owner: r.owner,
    plan: r.plan,
    scopes: r.scopes === null ? null : (JSON.parse(r.scopes) as string[]),
    createdAt: num(r.created_at),
    expiresAt: numOrNull(r.expires_at),
    revokedAt: numOrNull(r.revoked_at),
    rotatedFrom: r.rotated_from,
  };
}

/** Column values in KEY_COLUMNS order. */
export function keyToValues(k: ApiKeyRecord): unknown[] {
  return [
    k.id,
    k.prefix,
    k.hash,
    k.name,
    k.owner,
    k.plan,
    k.scopes === null ? null : JSON.stringify(k.scopes),
    k.createdAt,
    k.expiresAt,
    k.revokedAt,
    k.rotatedFrom,
  ];
}

/** Most key ids one lastUsed() call takes (one query, bounded parameter list). */
export const MAX_LAST_USED_IDS = 1000;

/** The distinct ids, refusing more than MAX_LAST_USED_IDS. */
export function checkIds(ids: readonly string[]): string[] {
  const unique = [...new Set(ids)];
  if (unique.length > MAX_LAST_USED_IDS) {
    throw new RangeError(`lastUsed takes at most ${MAX_LAST_USED_IDS} key ids, got ${unique.length}`);
  }
  return unique;
}

export const KEY_COLUMNS =
  'id, prefix, hash, name, owner, plan, scopes, created_at, expires_at, revoked_at, rotated_from';

export interface UsageRow {
  key_id: string;
  model: string;
  version: string;
  status: number;
  units: number | string;
  latency_ms: number | string;
  time: number | string;
}

export function usageFromRow(r: UsageRow): UsageRecord {
  return {
    keyId: r.key_id,
    model: r.model,
    version: r.version,
    status: Number(r.status),
    units: num(r.units),
    latencyMs: num(r.latency_ms),
    time: num(r.time),
  };
}

export interface TotalRow {
  key_id: string;
  day: string;
  model: string;
  requests: number | string;
  units: number | string | null;
  errors: number | string | null;
}

export function totalFromRow(r: TotalRow): UsageTotal {
  return {
    keyId: r.key_id,
    day: r.day,
    model: r.model,
    requests: num(r.requests),
    units: num(r.units ?? 0),
    errors: num(r.errors ?? 0),
  };
}

/** WHERE clause over usage for a query; `p(i)` renders the i-th placeholder in the dialect. */
export function usageWhere(
  q: { keyId?: string; from?: number; to?: number },
  p: (i: number) => string,
): { sql: string; params: unknown[] } {
  const parts: string[] = [];
  const params: unknown[] = [];
  if (q.keyId !== undefined) {
    params.push(q.keyId);
    parts.push(`key_id = ${p(params.length)}`);
  }
  if (q.from !== undefined) {
    params.push(q.from);
    parts.push(`time >= ${p(params.length)}`);
  }
  if (q.to !== undefined) {
    params.push(q.to);
    parts.push(`time < ${p(params.length)}`);
  }
  return { sql: parts.length ? `WHERE ${parts.join(' AND ')}` : '', params };
}
