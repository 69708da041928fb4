/**
 * Key lifecycle operations shared by the CLI (`inferd keys …`) and the admin API: create, list,
 * revoke, rotate. Keys are addressed by id (`key_…`) or by the full key itself.
 */
import { InferdError } from '../errors.js';
import type { ApiKeyRecord, Store } from './store/types.js';
import { generateKey, hashKey, isWellFormedKey, newKeyId, type KeyEnvironment } from './keys.js';

export interface CreateKeyInput {
  name: string;
  owner?: string | null;
  plan?: string;
  /** Model names; undefined or empty = every model. */
  models?: string[];
  /** Lifetime in ms from now; undefined = never expires. */
  expiresInMs?: number;
  environment?: KeyEnvironment;
}

/** What listings show: the record without its hash. */
export type PublicKey = Omit<ApiKeyRecord, 'hash'>;

export function publicKey(k: ApiKeyRecord): PublicKey {
  const { hash: _hash, ...rest } = k;
  return rest;
}

export class KeyAdmin {
  constructor(
    private readonly store: Store,
    /** Known plan names; creating a key on another plan is refused. */
    private readonly plans: readonly string[],
    private readonly now: () => number = Date.now,
  ) {}

  async create(
    input: CreateKeyInput,
    rotatedFrom: string | null = null,
  ): Promise<{ key: string; record: ApiKeyRecord }> {
    const plan = input.plan ?? 'free';
    if (!this.plans.includes(plan)) {
      throw new InferdError(
        'invalid_request',
        `unknown plan '${plan}'; known plans: ${this.plans.join(', ')}`,
      );
    }
    if (!input.name.trim()) throw new InferdError('invalid_request', 'a key needs a non-empty name');
    const g = generateKey(input.environment ?? 'live');
    const now = this.now();
    const record: ApiKeyRecord = {
      id: newKeyId(),
      prefix: g.prefix,
      hash: g.hash,
      name: input.name,
      owner: input.owner ?? null,
      plan,
      scopes: input.models && input.models.length > 0 ? [...input.models] : null,
      createdAt: now,
      expiresAt: input.expiresInMs === undefined ? null : now + input.expiresInMs,
      revokedAt: null,
      rotatedFrom,
    };
    await this.store.createKey(record);
    return { key: g.key, record };
  }

  list(): Promise<ApiKeyRecord[]> {
    return this.store.listKeys();
  }

  /** By id, or by the full key (hashed; never stored or logged). */
  async find(keyOrId: string): Promise<ApiKeyRecord> {
    const rec = isWellFormedKey(keyOrId)
      ? await this.store.findKeyByHash(hashKey(keyOrId))
      : await this.store.getKey(keyOrId);
    if (!rec) throw new InferdError('not_found', `no API key with that id or value`);
    return rec;
  }

  async revoke(keyOrId: string): Promise<ApiKeyRecord> {
    const rec = await this.find(keyOrId);
    await this.store.revokeKey(rec.id, this.now());
    return (await this.store.getKey(rec.id))!;
  }

  /**
   * A new key with the same name, plan, scopes and remaining lifetime; the old one keeps working
   * for `graceMs` (0 = revoked now), so clients can switch without downtime.
   */
  async rotate(
    keyOrId: string,
    graceMs: number,
  ): Promise<{ key: string; record: ApiKeyRecord; old: ApiKeyRecord }> {
    const old = await this.find(keyOrId);
    if (old.revokedAt !== null)
      throw new InferdError('invalid_request', `key ${old.id} is revoked; create a new one`);
    const now = this.now();
    const created = await this.create(
      {
        name: old.name,
        owner: old.owner,
        plan: old.plan,
        models: old.scopes ?? undefined,
        expiresInMs: old.expiresAt === null ? undefined : Math.max(0, old.expiresAt - now),
      },
      old.id,
    );
    if (graceMs <= 0) await this.store.revokeKey(old.id, now);
    else {
      const until = now + graceMs;
      await this.store.setExpiry(old.id, old.expiresAt === null ? until : Math.min(old.expiresAt, until));
    }
    return { ...created, old: (await this.store.getKey(old.id))! };
  }
}
