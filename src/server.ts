/**
 * The composition root: the only file that sees every module. Builds the model manager with its
 * backends, the inference service, and the transports; owns start-up and graceful shutdown.
 */
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Settings } from './config.js';
import { setupGateway } from './gateway/setup.js';
import { signatureConfigSection } from './gateway/api/signature.js';
import type { ConfigSection } from './core/model-config.js';
import { Metrics } from './observability/metrics.js';
import { createLogger } from './observability/logger.js';
import { createGrpcServer } from './protocol/grpc/server.js';
import { platformRoutes } from './protocol/platforms/platform-routes.js';
import { createRestApp } from './protocol/rest/app.js';
import { ModelManager } from './repository/model-manager.js';
import { ModelControl } from './repository/model-control.js';
import { openRepository } from './repository/source/open.js';
import type { BackendFactory, ModelInvoker } from './runtime/backend.js';
import { onnxBackend } from './runtime/onnx/backend.js';
import { createPipelineBackendFactory } from './runtime/pipeline/backend.js';
import { StepRegistry } from './runtime/pipeline/registry.js';
import { InferenceService } from './service/inference-service.js';
import { ResponseCache } from './service/response-cache.js';
import { SharedMemoryRegistry } from './service/shared-memory.js';
import { imageSteps } from './steps/image/preprocess.js';
import { ocrSteps } from './steps/ocr/steps.js';
import { tensorSteps } from './steps/tensor/identity.js';
import { VERSION } from './version.js';
import { RolloutController } from './service/rollout/controller.js';
import { RetentionWatcher, retentionOf } from './service/rollout/retention.js';
import { retireVersion } from './repository/version-retire.js';
import { moveAlias } from './repository/registry.js';
import type { Store } from './gateway/store/types.js';

/** Protocol extensions actually implemented (GET /v2 lists exactly these). */
const EXTENSIONS = [
  'model_repository',
  'statistics',
  'schedule_policy',
  'binary_tensor_data',
  'classification',
  'system_shared_memory',
];

/** The step packages pipeline configs can call by name (`"function": "ocr.decode_image"`). */
const STEP_PACKAGES = [ocrSteps, imageSteps, tensorSteps];

/** The pipeline backend with every step package registered. */
export const pipelineBackend: BackendFactory = createPipelineBackendFactory(
  new StepRegistry().registerAll(STEP_PACKAGES.flat()),
);

const BACKENDS: BackendFactory[] = [onnxBackend, pipelineBackend];

/** The config.json sections owned outside the repository, validated when a model's config is read. */
const CONFIG_SECTIONS: readonly ConfigSection[] = [
  ...BACKENDS.flatMap((b) => (b.configSection ? [b.configSection] : [])),
  signatureConfigSection,
];

export interface RunningServer {
  service: InferenceService;
  app: FastifyInstance;
  logger: Logger;
  /** http://host:port actually bound (port 0 picks a free one). */
  httpUrl: string;
  /** host:port of the gRPC server actually bound (no scheme, as gRPC clients take it). */
  grpcUrl: string;
  /** Readiness 503 at once, in-flight requests finish (up to the shutdown timeout), models unload. */
  close(): Promise<void>;
}

export async function startServer(
  settings: Settings,
  options: { logger?: Logger } = {},
): Promise<RunningServer> {
  const logger = options.logger ?? createLogger(settings.logLevel);
  const metrics = new Metrics(settings.metricsFormat);
  // Pipelines call other models through the same service clients use (bound once it exists).
  const late: { service?: InferenceService } = {};
  const invoker: ModelInvoker = {
    infer: (req) => {
      if (!late.service) throw new Error('service not started');
      return late.service.infer(req, { internal: true });
    },
  };
  const source = await openRepository(settings);
  // Set once rollouts start (they need the store, read before any model loads): a version whose
  // promote's rollback window is over stays unloaded across reloads and restarts.
  const retention: { controller?: RolloutController } = {};
  const models = new ModelManager({
    source,
    backends: BACKENDS,
    metrics,
    logger,
    invoker,
    configSections: CONFIG_SECTIONS,
    defaultMaxBatchSize: settings.defaultMaxBatchSize,
    syntheticWarmup: settings.syntheticWarmup,
    retiredVersion: (model, version, config) => {
      const r = retentionOf(retention.controller?.state(model), Date.now(), config);
      return r?.retire && r.version === version ? r.reason : undefined;
    },
  });
  const control = new ModelControl(models, {
    mode: settings.modelControlMode,
    loadAtStart: settings.loadModel ?? ['*'],
    pollSecs: settings.repositoryPollSecs,
    stagingDir: settings.modelStagingDir ?? join(tmpdir(), 'inferd-model-staging'),
    source,
    sections: CONFIG_SECTIONS,
    logger,
  });
  // Triton's system shared memory: /dev/shm is where shm_open puts its objects on Linux.
  const sharedMemory = new SharedMemoryRegistry({
    dir: '/dev/shm',
    maxRegions: settings.shmMaxRegions,
    maxTotalBytes: settings.shmMaxBytes,
  });
  // Triton's response cache: one byte budget shared by the models that enable it.
  const cache = new ResponseCache(settings.cacheSizeBytes);
  metrics.cacheUsage = () => ({ bytes: cache.bytes, entries: cache.size, evictions: cache.evictions });
  const service = new InferenceService(models, {
    name: 'inferd',
    version: VERSION,
    extensions: EXTENSIONS,
    strictReadiness: settings.strictReadiness,
    maxResponseBytes: settings.maxResponseBytes,
    maxRequestElements: settings.maxRequestElements,
    sharedMemory,
    maxSharedMemoryReadBytes: settings.maxBodyBytes,
    control,
    cache,
  });
  late.service = service;
  // The gateway first: its access policy is what every transport consults.
  const gateway = await setupGateway(settings, logger, {
    modelExists: (name) => service.hasModel(name),
    moveAlias: isLocalRepository(source.location)
      ? (model, alias, version, who) => moveAlias(source.location, model, alias, version, who)
      : undefined,
    onFeedback: (model, version, correct) => metrics.feedback(model, version, correct),
  });
  // Rollouts live in the gateway's store (shared by replicas); without a store there are none.
  const rollouts = gateway.store && startRollouts(gateway.store, service, metrics, logger, settings);
  if (rollouts) {
    retention.controller = rollouts.controller;
    await rollouts.controller.start();
  }
  // SageMaker's and Vertex AI's contracts (docs/deploy/), beside /v2 on the same port.
  const platforms = platformRoutes(service, logger, settings);
  const app = createRestApp({
    service,
    metrics,
    logger,
    maxBodyBytes: settings.maxBodyBytes,
    access: gateway.access,
    endpoints: platforms.endpoints,
    rawRoutes: platforms.rawRoutes,
    limits: {
      headersTimeoutMs: settings.headersTimeoutMs,
      bodyTimeoutMs: settings.bodyTimeoutMs,
      idleTimeoutMs: settings.idleTimeoutMs,
      maxConnections: settings.maxConnections,
      maxBufferedBodyBytes: settings.maxBufferedBodyBytes,
    },
  });
  platforms.register(app);
  // Customer API (/v1), admin API, OpenAPI and docs: mounted before listen.
  await gateway.mount(app, service);

  const grpc = createGrpcServer(service, {
    logger,
    maxMessageBytes: settings.maxBodyBytes,
    access: gateway.access,
    limits: {
      maxConnections: settings.maxConnections,
      requestTimeoutMs: settings.bodyTimeoutMs,
      idleTimeoutMs: settings.idleTimeoutMs,
      maxConcurrentStreams: settings.grpcMaxConcurrentStreams,
      maxConnectionAgeMs: settings.grpcMaxConnectionAgeMs,
      maxConnectionAgeGraceMs: settings.shutdownTimeoutMs,
    },
  });

  const started = performance.now();
  // Listen first so that liveness and the startup probe answer while models load.
  await app.listen({ host: settings.host, port: settings.httpPort });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : settings.httpPort;
  const host = settings.host === '0.0.0.0' || settings.host === '::' ? '127.0.0.1' : settings.host;
  const httpUrl = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const grpcPort = await grpc.start(settings.host, settings.grpcPort);
  const grpcUrl = `${host.includes(':') ? `[${host}]` : host}:${grpcPort}`;
  await control.start();
  service.markStarted();
  const index = await models.index();
  if (settings.host === '127.0.0.1' && settings.auth === 'off') {
    logger.info(
      { host: settings.host },
      'auth is off: listening on 127.0.0.1 only (this machine); give --host 0.0.0.0 to listen on every interface',
    );
  }
  logger.info(
    {
      // The address actually bound (0.0.0.0 = every interface), beside the URLs to call.
      bind: { host: settings.host, httpPort: port, grpcPort },
      http: httpUrl,
      grpc: grpcUrl,
      repository: models.root,
      readyMs: Math.round(performance.now() - started),
      models: index.map((e) => `${e.name}${e.version ? `/${e.version}` : ''}:${e.state || 'UNLOADED'}`),
    },
    'inferd ready',
  );

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      // Readiness turns 503 now while the listener stays open, so probes see it. For drainDelayMs
      // new requests are still served (the load balancer has not yet taken us out), each answer
      // closing its connection; then new inference requests get 503 server_draining and accepted
      // ones finish (bounded by the shutdown timeout).
      service.startLeaving();
      if (settings.drainDelayMs > 0) {
        logger.info({ drainDelayMs: settings.drainDelayMs }, 'leaving: readiness is 503, still serving');
        await new Promise((resolve) => setTimeout(resolve, settings.drainDelayMs));
      }
      service.startDraining();
      const timeout = new Promise<void>((resolve) => setTimeout(resolve, settings.shutdownTimeoutMs).unref());
      await Promise.race([service.idle(), timeout]);
      await Promise.race([Promise.all([app.close(), grpc.close(settings.shutdownTimeoutMs)]), timeout]);
      rollouts?.controller.stop();
      rollouts?.retention.stop();
      await gateway.close();
      await control.stop();
      await models.unloadAll();
      sharedMemory.closeAll();
      logger.info('inferd stopped');
    })();
    return closing;
  };
  return { service, app, logger, httpUrl, grpcUrl, close };
}

/** A repository on this machine's disk (aliases can be moved in its config.json), not object storage. */
function isLocalRepository(location: string): boolean {
  return isAbsolute(location) && !location.includes('://');
}

/**
 * The rollout controller over the store, its metrics and log lines, attached to the service, and
 * the watcher that unloads a promote's previous version when its rollback window ends.
 */
function startRollouts(
  store: Store,
  service: InferenceService,
  metrics: Metrics,
  logger: Logger,
  settings: Settings,
): { controller: RolloutController; retention: RetentionWatcher } {
  const m = metrics.rollout;
  const retention = new RetentionWatcher({
    reread: async (model) => {
      await controller.refresh();
      return controller.state(model);
    },
    configOf: (model) => service.models.get(model)?.config,
    retire: (model, version, reason) => retireVersion(service.models, model, version, reason),
    retired: (model, version, reason) => logger.info({ model, version, reason }, 'rollout: version retired'),
    kept: (model, version, why) =>
      logger.info({ model, version, why }, 'rollout: rollback window ended; the version stays loaded'),
    failed: (model, err) => logger.error({ model, err }, 'rollout: retiring the previous version failed'),
  });
  const controller = new RolloutController({
    store,
    retainMs: settings.rolloutRetainMs,
    reloadMs: settings.rolloutReloadMs,
    events: {
      routed: (model, version, arm) => m.routedTo(model, version, arm),
      changed: (s, prev) => {
        retention.adopted(s);
        m.state(s.model, s.phase, s.candidate, s.percent, prev?.candidate);
        if (prev?.phase !== s.phase || prev.candidate !== s.candidate) {
          const { model, phase, production, candidate, percent, reason } = s;
          logger.info({ model, phase, production, candidate, percent, reason }, 'rollout');
        }
      },
      rolledBack: (s) => {
        m.rolledBack(s.model, s.candidate);
        const { model, production, candidate, reason } = s;
        logger.warn({ model, production, candidate, reason }, 'rollout rolled back');
      },
      storeError: (err) =>
        logger.error({ err }, 'rollout state: the store failed; the last known state keeps serving'),
    },
  });
  service.useRollout({
    controller,
    shadow: (r) => m.shadowSink(r),
    fallback: (model, from) => m.fellBack(model, from),
  });
  return { controller, retention };
}
