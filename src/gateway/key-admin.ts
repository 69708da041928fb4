/**
 * Key lifecycle operations shared by the CLI (`inferd keys …`) and the admin API: create, list,
 * revoke, rotate. Keys are addressed by id (`key_…`) or by the full key itself.
 */
import { InferdError } from '../errors.js';
import type { ApiKeyRecord, Store } from './store/types.js';
import {
  generateKey,
  hashKey,
  isWellFormedKey,
  MAX_DURATION_MS,
  newKeyId,
  type KeyEnvironment,
} from './keys.js';

/** Bounds of what a key record holds (characters; listed in docs/api.md). */
const KEY_LIMITS = {
  name: 128,
  owner: 256,
  /** Model names in a key's scope, and the length of each (a model folder name is at most 255). */
  models: 100,
  model: 255,
} as const;

function refuse(message: string): never {
  throw new InferdError('invalid_request', message);
}

/** Refuses inputs outside KEY_LIMITS and lifetimes beyond MAX_DURATION_MS, naming the field. */
function validateKeyInput(input: CreateKeyInput): void {
  if (!input.name.trim()) refuse('a key needs a non-empty name');
  if (input.name.length > KEY_LIMITS.name) {
    refuse(`the key name is ${input.name.length} characters long; the limit is ${KEY_LIMITS.name}`);
  }
  if (input.owner && input.owner.length > KEY_LIMITS.owner) {
    refuse(`the owner is ${input.owner.length} characters long; the limit is ${KEY_LIMITS.owner}`);
  }
  const models = input.models ?? [];
  if (models.length > KEY_LIMITS.models) {
    refuse(`a key may name at most ${KEY_LIMITS.models} models, got ${models.length}`);
  }
  for (const m of models) {
    if (m.length === 0 || m.length > KEY_LIMITS.model) {
      refuse(`model names in a key's scope are 1 to ${KEY_LIMITS.model} characters long`);
    }
  }
  const life = input.expiresInMs;
  if (life !== undefined && !(Number.isInteger(life) && life >= 0 && life <= MAX_DURATION_MS)) {
    refuse('the lifetime must be at most 36500d (100 years); leave it out for a key that never expires');
  }
}

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
    validateKeyInput(input);
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
        name: old.name.slice(0, KEY_LIMITS.name),
        owner: old.owner?.slice(0, KEY_LIMITS.owner) ?? null,
        plan: old.plan,
        models: old.scopes ?? undefined,
        // Clamped: a row stored before the bounds existed may hold an expiry beyond them.
        expiresInMs:
          old.expiresAt === null
            ? undefined
            : Math.min(MAX_DURATION_MS, Math.max(0, Math.round(old.expiresAt - now) || 0)),
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
