/**
 * Builds the gateway from settings and mounts the customer-facing route groups on the app:
 * /v1 (customer API), /admin (when an admin token is set), /openapi.json and /docs.
 * Called by the composition root before the app listens.
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Settings } from '../config.js';
import { registerDocs } from './api/docs.js';
import { MemoryLimiter } from './limiter/memory.js';
import { RedisLimiter } from './limiter/redis.js';
import type { Limiter } from './limiter/types.js';
import type { InferenceService } from '../service/inference-service.js';
import { openStore } from './store/open.js';
import type { Store } from './store/types.js';
import { registerAdminApi } from './admin.js';
import { apiKeyAuth } from './auth.js';
import { registerCustomerApi, type GatewayDeps } from './customer-api.js';
import { KeyAdmin } from './key-admin.js';
import { rateLimit } from './limits.js';
import { meterUsage } from './metering.js';
import { loadPlans } from './plans.js';

export interface Gateway {
  store?: Store;
  limiter?: Limiter;
  /** Flushes usage writes, then closes the store and the limiter. Call after the app closed. */
  close(): Promise<void>;
}

export async function setupGateway(
  app: FastifyInstance,
  settings: Settings,
  service: InferenceService,
  logger: Logger,
): Promise<Gateway> {
  const plans = loadPlans(settings.plansFile);
  const needStore = settings.auth === 'on' || settings.adminToken !== undefined;
  const store = needStore
    ? await openStore({
        dataDir: settings.dataDir,
        databaseUrl: settings.databaseUrl,
        databaseSchema: settings.databaseSchema,
      })
    : undefined;
  let limiter: Limiter | undefined;
  const deps: GatewayDeps = { store };
  if (settings.auth === 'on' && store) {
    limiter = settings.redisUrl ? new RedisLimiter(settings.redisUrl) : new MemoryLimiter();
    deps.authenticate = apiKeyAuth({ store });
    deps.admit = rateLimit({ limiter, plans, store });
    deps.meter = meterUsage(store);
    logger.info(
      { store: store.kind, limiter: limiter.kind, plans: Object.keys(plans.plans) },
      'customer API on /v1: API keys required',
    );
  } else {
    logger.warn(
      '!!! AUTH IS OFF: /v1 accepts requests without an API key, with no rate limits and no usage metering. Local development only; never expose this server. !!!',
    );
  }
  await registerCustomerApi(app, { service, gateway: deps, logger, maxBodyBytes: settings.maxBodyBytes });
  if (settings.adminToken && store) {
    await registerAdminApi(app, {
      token: settings.adminToken,
      store,
      admin: new KeyAdmin(store, Object.keys(plans.plans)),
    });
  }
  await registerDocs(app, service);
  return {
    store,
    limiter,
    async close() {
      await deps.meter?.drain();
      await limiter?.close();
      await store?.close();
    },
  };
}
