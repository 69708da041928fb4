/**
 * Builds the gateway from settings: the store, the limiter, the customer gate and the access policy
 * every transport consults (access.ts); then mounts the customer-facing route groups on the app:
 * /v1 (customer API), /admin (when an admin token is set), /openapi.json, /docs, and the portal
 * (/ and its session routes).
 * The composition root builds it before the transports and mounts it before the app listens.
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Settings } from '../config.js';
import { registerDocs } from './api/docs.js';
import { MemoryLimiter } from './limiter/memory.js';
import { RedisLimiter } from './limiter/redis.js';
import type { Limiter } from './limiter/types.js';
import type { InferenceService } from '../service/inference-service.js';
import { registerErrorShape } from '../protocol/http/errors.js';
import { openStore } from './store/open.js';
import type { Store } from './store/types.js';
import { accessControl, sameToken, type AccessControl } from './access.js';
import { registerPortal } from './portal-static.js';
import { registerSessionRoutes, sessionAuthorizer } from './session-routes.js';
import { SessionStore } from './sessions.js';
import { RecentErrors } from './recent-errors.js';
import type { Authenticate } from './auth.js';
import { registerAdminApi } from './admin.js';
import { registerRolloutAdmin, type RolloutAdminOptions } from './rollout-admin.js';
import { apiKeyAuth } from './auth.js';
import { registerCustomerApi, type GatewayDeps } from './customer-api.js';
import { CustomerGate } from './customer-gate.js';
import { KeyAdmin } from './key-admin.js';
import { rateLimit } from './limits.js';
import { meterUsage, type UsageMeter } from './metering.js';
import { loadPlans } from './plans.js';
import { sendProblem } from './problem.js';
import { PredictionLog, type FeedbackListener } from './feedback.js';

/** How often expired predictions (and their inputs and feedback) are purged. */
const PURGE_INTERVAL_MS = 60 * 60 * 1000;

export interface Gateway {
  store?: Store;
  limiter?: Limiter;
  /** The access policy under these settings; every transport consults it. */
  access: AccessControl;
  /** Mounts /v1, /admin (with an admin token), /openapi.json and /docs on the app. */
  mount(app: FastifyInstance, service: InferenceService): Promise<void>;
  /** Flushes usage writes, then closes the store and the limiter. Call after the transports closed. */
  close(): Promise<void>;
}

export interface GatewayOptions {
  /** True when the repository has a model of that name (only those calls are metered). */
  modelExists: (name: string) => boolean;
  /** Told of each accepted feedback (the live accuracy metrics). */
  onFeedback?: FeedbackListener;
  /** Moves an alias in a local model repository (rollout promote); absent for object storage. */
  moveAlias?: RolloutAdminOptions['moveAlias'];
}

export async function setupGateway(
  settings: Settings,
  logger: Logger,
  opts: GatewayOptions,
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
  let meter: UsageMeter | undefined;
  let gate: CustomerGate | undefined;
  let authenticate: Authenticate | undefined;
  if (settings.auth === 'on' && store) {
    limiter = settings.redisUrl ? new RedisLimiter(settings.redisUrl) : new MemoryLimiter();
    meter = meterUsage(store);
    authenticate = apiKeyAuth({ store });
    gate = new CustomerGate({
      authenticate,
      admit: rateLimit({ limiter, plans, store }),
      meter,
      modelExists: opts.modelExists,
    });
  }
  // Portal sign-in exists when there is something to sign in with: keys, or the admin token.
  const sessions = authenticate || settings.adminToken ? new SessionStore() : undefined;
  const access = accessControl({
    auth: settings.auth,
    v2Auth: settings.v2Auth,
    adminToken: settings.adminToken,
    gate,
    session: sessions && sessionAuthorizer(sessions),
  });
  if (gate && limiter && store) {
    logger.info(
      {
        store: store.kind,
        limiter: limiter.kind,
        plans: Object.keys(plans.plans),
        v2Inference: access.credential('inference') === 'customer-key' ? 'API keys' : 'open (--v2-auth off)',
        v2Admin: settings.adminToken ? 'admin token' : 'refused: no --admin-token',
      },
      'gateway on: API keys required on /v1',
    );
    if (access.credential('inference') !== 'customer-key') {
      logger.warn(
        '/v2 inference (REST and gRPC) needs no API key (--v2-auth off): no limits or metering there',
      );
    }
  } else {
    logger.warn(
      '!!! AUTH IS OFF: /v1 and /v2 accept requests without an API key, with no rate limits and no usage metering, and the /v2 repository API (load, unload) is open. Local development only; never expose this server. !!!',
    );
  }
  const predictions = store && gate ? new PredictionLog({ store, plans, logger }) : undefined;
  let purging: Promise<void> = Promise.resolve();
  const purge = (): void => {
    if (!predictions) return;
    purging = predictions
      .purge()
      .then((n) => {
        if (n > 0) logger.info({ purged: n }, 'expired predictions purged');
      })
      .catch((err: unknown) => logger.warn({ err }, 'purging expired predictions failed'));
  };
  purge();
  const purgeTimer = predictions ? setInterval(purge, PURGE_INTERVAL_MS).unref() : undefined;
  const deps: GatewayDeps = {
    store,
    gate,
    plans,
    recentErrors: new RecentErrors(),
    predictions,
    onFeedback: opts.onFeedback,
  };
  const adminToken = settings.adminToken;
  return {
    store,
    limiter,
    access,
    async mount(app, service) {
      await registerCustomerApi(app, { service, gateway: deps, logger, maxBodyBytes: settings.maxBodyBytes });
      if (settings.adminToken && store) {
        await registerAdminApi(app, { store, admin: new KeyAdmin(store, Object.keys(plans.plans)) });
        await registerRolloutAdmin(app, { service, moveAlias: opts.moveAlias });
      }
      await registerDocs(app, service);
      registerPortal(app);
      registerSessionRoutes(app, {
        sessions: sessions ?? new SessionStore({ maxSessions: 1 }),
        authenticate,
        isAdminToken: (t) => adminToken !== undefined && sameToken(t, adminToken),
        auth: settings.auth,
        hasAdminToken: adminToken !== undefined,
      });
      // Errors raised before routing (a malformed URL) under these prefixes keep problem+json too.
      registerErrorShape(app, '/v1/', sendProblem);
      registerErrorShape(app, '/admin/', sendProblem);
    },
    async close() {
      clearInterval(purgeTimer);
      await meter?.drain();
      await predictions?.drain();
      await purging;
      await limiter?.close();
      await store?.close();
    },
  };
}
