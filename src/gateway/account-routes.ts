/**
 * The signed-in customer's own account under /v1 (the portal uses these; any client may):
 *   GET  /v1/models                the models with a task endpoint, their state and signature
 *   GET  /v1/account               the calling key, its plan's limits, this month's quota, recent errors
 *   GET  /v1/keys                  the keys of the caller's account, with when each was last used
 *   POST /v1/keys                  a new key in the account (shown once)
 *   POST /v1/keys/{id}/rotate      a replacement key; the old one works for the grace period
 *   POST /v1/keys/{id}/revoke      ends a key of the account
 * Owner model (docs/portal.md): an account is the `owner` of a key; keys with the same owner manage
 * one another, a key without an owner manages only itself. Nothing here changes a plan or widens a
 * scope: a new key gets the caller's plan, and at most the caller's models. The admin token does
 * everything through /admin.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { InferdError } from '../errors.js';
import type { InferenceService } from '../service/inference-service.js';
import { trySignature } from './api/signature.js';
import { jsonBody } from './admin.js';
import { KeyAdmin, publicKey } from './key-admin.js';
import { formatTime, MAX_DURATION_MS, parseDuration } from './keys.js';
import { monthWindow, type PlanSet } from './plans.js';
import type { RecentErrors } from './recent-errors.js';
import type { ApiKeyRecord, Store } from './store/types.js';

export interface AccountOptions {
  service: InferenceService;
  store?: Store;
  plans: PlanSet;
  recentErrors: RecentErrors;
  now?: () => number;
}

/** Keys one account may hold, revoked ones included (they stay listed). */
const MAX_KEYS_PER_ACCOUNT = 100;

const createBody = z.object({
  name: z.string().min(1).max(128),
  models: z.array(z.string().min(1).max(255)).max(100).optional(),
  expires_in: z.string().max(32).optional(),
});
const rotateBody = z.object({ grace: z.string().max(32).default('24h') });
const KEY_REQUEST = 'a key request holds a few fields';

function duration(text: string): number {
  try {
    return parseDuration(text);
  } catch (err) {
    throw new InferdError('invalid_request', (err as Error).message);
  }
}

function caller(req: FastifyRequest, store: Store | undefined): { key: ApiKeyRecord; store: Store } {
  if (!store || !req.apiKey) {
    throw new InferdError(
      'unsupported',
      'accounts and keys exist only when the gateway is on (--auth on); this server runs in local mode',
    );
  }
  return { key: req.apiKey, store };
}

export function registerAccountRoutes(v1: FastifyInstance, o: AccountOptions): void {
  const now = o.now ?? Date.now;
  const keyAdmin = o.store ? new KeyAdmin(o.store, Object.keys(o.plans.plans), now) : undefined;

  /** The keys the caller may see and change: its account's, or itself alone. */
  async function accountKeys(key: ApiKeyRecord, store: Store): Promise<ApiKeyRecord[]> {
    return key.owner === null ? [(await store.getKey(key.id)) ?? key] : store.listKeysByOwner(key.owner);
  }
  async function ownKey(key: ApiKeyRecord, store: Store, id: string): Promise<ApiKeyRecord> {
    const found = (await accountKeys(key, store)).find((k) => k.id === id);
    // Another account's key is "not found", not "forbidden": ids of other accounts are not confirmed.
    if (!found) throw new InferdError('not_found', `your account has no key '${id.slice(0, 40)}'`);
    return found;
  }

  v1.get('/models', async () => {
    const index = await o.service.repositoryIndex();
    const models = [];
    for (const name of [...new Set(index.map((e) => e.name))].sort()) {
      let cfg;
      try {
        cfg = o.service.modelConfig(name);
      } catch {
        continue; // not loaded: its signature is unknown until it loads
      }
      const sig = trySignature(name, cfg.signature);
      if (!sig) continue;
      const versions = index.filter((e) => e.name === name);
      models.push({
        name,
        version: cfg.version,
        ready: o.service.modelReady(name),
        state: versions.find((v) => v.state === 'READY')?.state ?? versions[0]?.state ?? 'UNKNOWN',
        weight: o.plans.modelWeights[name] ?? o.plans.defaultWeight,
        signature: sig,
      });
    }
    return { models };
  });

  v1.get('/account', async (req) => {
    const { key, store } = caller(req, o.store);
    const plan = o.plans.plans[key.plan];
    const month = monthWindow(now());
    const used = await store.unitsUsed(key.id, month.start, month.end);
    const quota = plan?.monthlyQuotaUnits ?? null;
    return {
      key: publicKey(key),
      plan: key.plan,
      limits: plan ?? null,
      quota: {
        month: month.id,
        used_units: used,
        limit_units: quota,
        remaining_units: quota === null ? null : Math.max(0, quota - used),
      },
      model_weights: o.plans.modelWeights,
      recent_errors: o.recentErrors.of(key.id),
    };
  });

  v1.get('/keys', async (req) => {
    const { key, store } = caller(req, o.store);
    const keys = await accountKeys(key, store);
    const last = await store.lastUsed(keys.map((k) => k.id));
    return {
      account: key.owner,
      keys: keys.map((k) => ({
        ...publicKey(k),
        last_used_at: last.has(k.id) ? formatTime(last.get(k.id)!) : null,
        current: k.id === key.id,
      })),
    };
  });

  v1.post('/keys', async (req, reply) => {
    const { key, store } = caller(req, o.store);
    if (key.owner === null) {
      throw new InferdError(
        'forbidden',
        `key ${key.id} belongs to no account, so it cannot create keys; ask the operator for a key with an owner`,
      );
    }
    const b = jsonBody(createBody, req.body, KEY_REQUEST);
    if ((await store.listKeysByOwner(key.owner)).length >= MAX_KEYS_PER_ACCOUNT) {
      throw new InferdError(
        'invalid_request',
        `an account holds at most ${MAX_KEYS_PER_ACCOUNT} keys; ask the operator to remove old ones`,
      );
    }
    const models = b.models?.length ? b.models : (key.scopes ?? undefined);
    if (key.scopes !== null) {
      const outside = (models ?? []).filter((m) => !key.scopes!.includes(m));
      if (outside.length > 0) {
        throw new InferdError(
          'forbidden',
          `your key may not call ${outside.join(', ').slice(0, 200)}, so a key it creates may not either`,
        );
      }
    }
    let expiresInMs = b.expires_in === undefined ? undefined : duration(b.expires_in);
    // No key outlives the key that made it.
    if (key.expiresAt !== null) {
      const left = Math.max(0, key.expiresAt - now());
      expiresInMs = Math.min(expiresInMs ?? MAX_DURATION_MS, left);
    }
    const { key: secret, record } = await keyAdmin!.create({
      name: b.name,
      owner: key.owner,
      plan: key.plan,
      models,
      expiresInMs,
    });
    return reply.code(201).send({ key: secret, ...publicKey(record) });
  });

  v1.post('/keys/:id/rotate', async (req) => {
    const { key, store } = caller(req, o.store);
    const target = await ownKey(key, store, (req.params as { id: string }).id);
    const b = jsonBody(rotateBody, req.body, KEY_REQUEST);
    const r = await keyAdmin!.rotate(target.id, duration(b.grace));
    return { key: r.key, ...publicKey(r.record), old: publicKey(r.old) };
  });

  v1.post('/keys/:id/revoke', async (req) => {
    const { key, store } = caller(req, o.store);
    const target = await ownKey(key, store, (req.params as { id: string }).id);
    return publicKey(await keyAdmin!.revoke(target.id));
  });
}
