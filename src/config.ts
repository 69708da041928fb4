/**
 * Server settings from flags, environment (INFERD_*) and an optional JSON config file, in that order
 * of precedence, validated once at start-up. A bad value names the setting, where it came from and
 * the allowed range.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { z } from 'zod';

const MiB = 1024 * 1024;

/** Heap limit after a full GC = live size × (1 + percent / 100): see src/cli/process/heap-growth.ts. */
export const DEFAULT_HEAP_GROWING_PERCENT = 100;

const port = z.coerce.number().int().min(0).max(65535);

/** A route path a platform names (Vertex AI's AIP_HEALTH_ROUTE, AIP_PREDICT_ROUTE): absolute, no query. */
const routePath = z
  .string()
  .max(1024)
  .regex(/^\/[^\s?#]*$/, 'must be an absolute path starting with / (no spaces, query or fragment)');

/** Where SageMaker unpacks a model's ModelDataUrl archive (docs/deploy/sagemaker.md). */
const SAGEMAKER_MODEL_DIR = '/opt/ml/model';

export const settingsSchema = z.object({
  /**
   * A folder, or `s3://bucket/prefix` / `gs://bucket/prefix` (docs/deploy/object-storage.md).
   * Unset: `sagemakerModelDir` when that folder exists and holds something (SageMaker unpacked a
   * model there), else ./models. See resolveModelRepository.
   */
  modelRepository: z.string().min(1).default('./models'),
  /**
   * Triton's --model-control-mode (src/repository/model-control.ts): `none` loads every model and
   * refuses the repository API's load/unload; `explicit` loads the --load-model models and lets
   * the API load and unload; `poll` loads every model and reloads changes every
   * --repository-poll-secs. Unset: `explicit` with every model loaded at start (see resolveModelControl).
   */
  modelControlMode: z.enum(['none', 'explicit', 'poll']).default('explicit'),
  /** Explicit mode: models to load at start (repeatable; `*` = all; env: comma-separated). */
  loadModel: z
    .union([z.string(), z.array(z.string())])
    .transform((v) => (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter(Boolean))
    .pipe(z.array(z.string().min(1).max(256)).max(10_000))
    .optional(),
  /** Poll mode: seconds between two reads of the repository (Triton's default 15). */
  repositoryPollSecs: z.coerce.number().int().min(1).max(86_400).default(15),
  /** Where the repository API's load writes model files it is sent (unset: `<tmpdir>/inferd-model-staging`). */
  modelStagingDir: z.string().min(1).optional(),
  /**
   * max_batch_size that auto-complete gives an ONNX model whose config does not set one and whose
   * inputs and outputs all have a dynamic first dimension (Triton's
   * --backend-config=default-max-batch-size, 4); 0 = leave such models unbatched. Unset: the size
   * the load-time calibration picks (runtime/tuning.ts), or 4 when calibration is not possible.
   */
  defaultMaxBatchSize: z.coerce
    .number()
    .int()
    .min(0)
    .max(1 << 16)
    .optional(),
  /**
   * KServe (docs/deploy/kserve.md): the name one model is served under when the repository folder
   * is that model's own folder (config.json or integer version folders at its top), as KServe's
   * storage initializer lays out a storageUri naming one model in /mnt/models; the ServingRuntime
   * passes the InferenceService's name. A repository of model folders (a storageUri naming the
   * repository root, as for Triton) is served as it is, under the folder names.
   */
  modelName: z
    .string()
    .max(256)
    .regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/, 'must be a model name: letters, digits, _ . - (not first . or -)')
    .optional(),
  /** The folder SageMaker unpacks model artifacts into; a setting so that tests can point it elsewhere. */
  sagemakerModelDir: z.string().min(1).default(SAGEMAKER_MODEL_DIR),
  /**
   * The model of requests that name none (SageMaker /invocations, the Vertex AI predict route) when
   * the repository has more than one model. See docs/deploy/sagemaker.md.
   */
  defaultModel: z.string().min(1).max(256).optional(),
  /** Vertex AI: serve readiness on this path too (`$AIP_HEALTH_ROUTE`). */
  vertexHealthRoute: routePath.optional(),
  /** Vertex AI: serve `{"instances": […]}` predictions on this path (`$AIP_PREDICT_ROUTE`). */
  vertexPredictRoute: routePath.optional(),
  /**
   * Where versions from object storage are downloaded (unset: `<os.tmpdir()>/inferd-model-cache`).
   * Must be writable: on a read-only root file system, a mounted volume or the temp dir.
   */
  modelCacheDir: z.string().min(1).optional(),
  /** S3-compatible store's URL (also `AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL`); path-style addressing. */
  s3Endpoint: z.url({ protocol: /^https?$/ }).optional(),
  /**
   * Most objects one listing of object storage may return (the repository's models, or one model's
   * files): 10,000 is 10 pages of S3's 1,000 and far above any model folder.
   */
  maxRepositoryObjects: z.coerce.number().int().min(1).max(10_000_000).default(10_000),
  /**
   * Most bytes one version downloads from object storage (the model's own files plus the version
   * folder). 8 GiB holds a 2 GiB ONNX protobuf with external data several times over.
   */
  maxModelBytes: z.coerce
    .number()
    .int()
    .min(1024)
    .max(2 ** 50)
    .default(8 * 1024 * MiB),
  /**
   * One object storage request: a listing's whole answer, a download's longest wait for its next
   * bytes (a large file may take longer in all, as long as it keeps coming).
   */
  objectStoreTimeoutMs: z.coerce.number().int().min(100).max(3_600_000).default(30_000),
  /** Retries of a failed object storage request (network, 5xx, 429, stall, short read), with backoff. */
  objectStoreRetries: z.coerce.number().int().min(0).max(20).default(3),
  /**
   * Address to listen on. Unset: 0.0.0.0 with auth on, 127.0.0.1 with auth off (an open server is
   * reachable from this machine only unless a host is given explicitly); see resolveHost.
   */
  host: z.string().min(1).optional(),
  /** Else `$AIP_HTTP_PORT` (Vertex AI), `$SAGEMAKER_BIND_TO_PORT` (SageMaker), `$PORT` (Cloud Run), 8080. */
  httpPort: port.default(8080),
  /** gRPC (GRPCInferenceService + grpc.health.v1) port; 0 picks a free one. */
  grpcPort: port.default(8081),
  /** Largest request body; 64 MiB fits a 4k RGB FP32 image tensor in binary form. */
  maxBodyBytes: z.coerce
    .number()
    .int()
    .min(1024)
    .max(2048 * MiB)
    .default(64 * MiB),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Metric names on /metrics: inferd's, Triton's (nv_*, for Triton's dashboards), or both. */
  metricsFormat: z.enum(['inferd', 'triton', 'both']).default('inferd'),
  /** Ready only when every model is READY (Triton's --strict-readiness). */
  strictReadiness: z
    .union([z.boolean(), z.enum(['true', 'false', '1', '0'])])
    .transform((v) => v === true || v === 'true' || v === '1')
    .default(false),
  /** Longest wait for in-flight requests on SIGTERM before exiting anyway. */
  shutdownTimeoutMs: z.coerce.number().int().min(0).max(3_600_000).default(30_000),
  /**
   * After SIGTERM, keep serving new requests this long while readiness is 503 (responses carry
   * `connection: close`), then refuse new ones and drain. Kubernetes sends SIGTERM at the same time
   * as it starts taking the pod out of the Service's endpoints, and kube-proxy, ingress controllers
   * and load balancers learn it a moment later; requests they send meanwhile must still succeed.
   * Set it above that lag (the readiness probe's period × failureThreshold): the drill measured 0
   * failed requests with 3000 behind HAProxy checking every 500 ms (docs/deploy/drills.md). 0 =
   * refuse at once (platforms that remove the endpoint before SIGTERM: Cloud Run, SageMaker).
   */
  drainDelayMs: z.coerce.number().int().min(0).max(600_000).default(0),
  /** After a rollout's promote, the previous version can be rolled back to for this long, then leaves (docs/lifecycle.md#rollout). */
  rolloutRetainMs: z.coerce
    .number()
    .int()
    .min(0)
    .max(7 * 86_400_000)
    .default(600_000),
  /** How often each replica reads rollout states from the store again (they change on other replicas). */
  rolloutReloadMs: z.coerce.number().int().min(100).max(600_000).default(2000),
  /** V8 heap limit after a full GC = live × (1 + this / 100); 0 = V8's own sizing (src/cli/process/heap-growth.ts). */
  heapGrowingPercent: z.coerce.number().int().min(0).max(1000).default(DEFAULT_HEAP_GROWING_PERCENT),
  /** Customer API gateway (/v1): `off` skips keys, limits and metering (local development only). */
  auth: z.enum(['on', 'off']).default('on'),
  /** Folder of the embedded store (`<dataDir>/inferd.db`), shared by `inferd serve` and `inferd keys`. */
  dataDir: z.string().min(1).default('./.inferd'),
  /** postgres://… : keys and usage in PostgreSQL (shared by replicas) instead of SQLite. */
  databaseUrl: z.string().optional(),
  /** PostgreSQL schema holding inferd's tables (one per deployment or test run). */
  databaseSchema: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/)
    .default('inferd'),
  /** redis://… : rate limits and quotas shared by replicas instead of in-process. */
  redisUrl: z.string().optional(),
  /** JSON file replacing the default plans and model weights (src/gateway/plans.ts). */
  plansFile: z.string().optional(),
  /** Bearer token of the /admin API; the admin API is disabled when unset. At least 16 characters. */
  adminToken: z.string().min(16).optional(),
  /**
   * /v2 inference (REST and gRPC) with auth on: `keys` = customer API keys with the same limits and
   * metering as /v1 (docs/access-control.md); `off` = open. No effect with auth off.
   */
  v2Auth: z.enum(['keys', 'off']).default('keys'),
  /**
   * Largest response, in bytes of output tensors as the model produced them (the binary encodings'
   * size); 413 response_too_large beyond. As large as the largest request body by default; JSON
   * responses are bounded again by what a JSON text can hold (src/protocol/http/json-size.ts).
   */
  maxResponseBytes: z.coerce
    .number()
    .int()
    .min(1024)
    .max(2048 * MiB)
    .default(64 * MiB),
  // Connection limits (src/protocol/rest/connection-guard.ts, src/protocol/grpc/http2-guard.ts).
  /**
   * A request's headers must arrive within this (408 beyond). A client sends its headers in one
   * write; 30 s still covers four TCP retransmissions of them (1 + 2 + 4 + 8 + 16 s), and halves
   * the time a slowloris connection is held compared with Node's 60 s.
   */
  headersTimeoutMs: z.coerce.number().int().min(10).max(3_600_000).default(30_000),
  /**
   * The whole request, headers and body (gRPC: a unary call's message), must arrive within this
   * (408 beyond). 300 s is Node's own default: a body at the 64 MiB limit then needs 1.8 Mbit/s,
   * below a typical 4G uplink; raise both together for bigger bodies over slow links.
   */
  bodyTimeoutMs: z.coerce.number().int().min(10).max(86_400_000).default(300_000),
  /**
   * A connection with no request in progress closes after this (HTTP keep-alive; gRPC: no call,
   * GOAWAY). 65 s is above the 60 s idle timeout of common load balancers, so they close first
   * and never send a request on a connection we are closing.
   */
  idleTimeoutMs: z.coerce.number().int().min(10).max(3_600_000).default(65_000),
  /**
   * Connections at once, per transport. Beyond it HTTP requests get 503 too_many_connections and
   * the connection closes (beyond twice it, connections are dropped unanswered); gRPC drops them.
   * 1024 is far above the 64–256 connections a load balancer or client pool keeps to one replica,
   * and far below the file descriptors Node can hold.
   */
  maxConnections: z.coerce.number().int().min(1).max(1_000_000).default(1024),
  /**
   * Request bodies held at once across all HTTP connections (503 body_buffer_full beyond): without
   * it 20 stalled 50 MB uploads held 1 GB. 256 MiB = four bodies at the default 64 MiB limit.
   */
  maxBufferedBodyBytes: z.coerce
    .number()
    .int()
    .min(1024)
    .max(64 * 1024 * MiB)
    .default(256 * MiB),
  /**
   * gRPC calls at once on one connection (HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS; clients queue the
   * rest). 256: Go's HTTP/2 server uses 250 and nginx 128; client pools open more connections.
   */
  grpcMaxConcurrentStreams: z.coerce.number().int().min(1).max(2_147_483_647).default(256),
  /**
   * 0 = off. Else gRPC connections get GOAWAY after about this long (±10%) so that clients behind
   * an L4 balancer spread over new replicas; calls still running get shutdownTimeoutMs to finish.
   * Off by default: a long ModelStreamInfer stream would be cut.
   */
  grpcMaxConnectionAgeMs: z.coerce.number().int().min(0).max(2_147_483_647).default(0),
  /**
   * Most tensor elements in one request, all inputs together, checked before any tensor data is
   * allocated. 16 Mi admits a 64 MiB FP32 tensor in binary form (the default maxBodyBytes) while a
   * body of that size can no longer become tens of millions of objects.
   */
  maxRequestElements: z.coerce
    .number()
    .int()
    .min(1)
    .max(2 ** 31 - 1)
    .default(16 * MiB),
  /** System shared memory (Triton's extension): regions registered at once. */
  shmMaxRegions: z.coerce.number().int().min(0).max(65_536).default(256),
  /**
   * Sum of the registered regions' byte sizes. Registering maps nothing (regions are read at an
   * offset), so this bounds what clients can point the server at, not its memory.
   */
  shmMaxBytes: z.coerce
    .number()
    .int()
    .min(0)
    .max(2 ** 50)
    .default(64 * 1024 * MiB),
  /**
   * Byte budget of the response cache (service/response-cache.ts), shared by the models whose
   * config says `response_cache { enable: true }`; 0 turns the cache off for every model.
   */
  cacheSizeBytes: z.coerce
    .number()
    .int()
    .min(0)
    .max(64 * 1024 * MiB)
    .default(64 * MiB),
  /** Warm a model without `model_warmup` with one synthetic request at load (repository/warmup.ts). */
  syntheticWarmup: z
    .union([z.boolean(), z.enum(['true', 'false', '1', '0'])])
    .transform((v) => v === true || v === 'true' || v === '1')
    .default(true),
});

/** Validated settings; `host` is always resolved (resolveHost). */
export type Settings = Omit<z.infer<typeof settingsSchema>, 'host'> & { host: string };
export type SettingsInput = Partial<Record<keyof Settings, unknown>>;

/** `maxBodyBytes` → `max-body-bytes`: a setting's flag and environment names derive from its key. */
const kebab = (key: string): string => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/**
 * The help of each setting's `inferd serve` flag (`arg` names its value; none = a switch). Flags and
 * environment variables are derived from the keys, so a new setting is one schema entry and one
 * line here (the Record type refuses a missing one).
 */
export const SETTING_HELP: Record<keyof Settings, { arg?: string; help: string; repeatable?: boolean }> = {
  modelRepository: {
    arg: 'dir|uri',
    help: 'model repository: a folder, s3://bucket/prefix or gs://bucket/prefix (also $AIP_STORAGE_URI; default /opt/ml/model when SageMaker filled it, else ./models)',
  },
  modelControlMode: {
    arg: 'none|explicit|poll',
    help: "Triton's model control: none = load all, API load/unload refused; explicit = --load-model only, API allowed; poll = load all, reload changes (default explicit, loading every model)",
  },
  loadModel: {
    arg: 'name',
    repeatable: true,
    help: "explicit mode: a model to load at start, repeatable, '*' = all (env: comma-separated)",
  },
  repositoryPollSecs: { arg: 's', help: 'poll mode: seconds between repository reads (default 15)' },
  modelStagingDir: {
    arg: 'dir',
    help: "where the repository API's load writes the model files it is sent (default <tmpdir>/inferd-model-staging)",
  },
  defaultMaxBatchSize: {
    arg: 'n',
    help: 'auto-complete: max_batch_size of an ONNX model that can batch and whose config sets none; 0 = none (default: calibrated at load, 4 without calibration)',
  },
  modelName: {
    arg: 'name',
    help: "serve a local folder that is one model's folder (config.json, version folders) under this name (KServe: the InferenceService's name)",
  },
  sagemakerModelDir: {
    arg: 'dir',
    help: 'where SageMaker unpacks model artifacts; the repository when none is given (default /opt/ml/model)',
  },
  defaultModel: {
    arg: 'name',
    help: 'model of /invocations and the Vertex predict route when the repository has several',
  },
  vertexHealthRoute: { arg: 'path', help: 'Vertex AI health route, readiness (also $AIP_HEALTH_ROUTE)' },
  vertexPredictRoute: {
    arg: 'path',
    help: 'Vertex AI predict route, {"instances": [...]} (also $AIP_PREDICT_ROUTE)',
  },
  modelCacheDir: {
    arg: 'dir',
    help: 'where models from object storage are downloaded (default <tmpdir>/inferd-model-cache)',
  },
  s3Endpoint: {
    arg: 'url',
    help: 'S3-compatible endpoint, path-style (also $AWS_ENDPOINT_URL_S3, $AWS_ENDPOINT_URL)',
  },
  maxRepositoryObjects: {
    arg: 'n',
    help: 'most objects one object storage listing may return (default 10000)',
  },
  maxModelBytes: {
    arg: 'n',
    help: 'most bytes one version downloads from object storage (default 8589934592 = 8 GiB)',
  },
  objectStoreTimeoutMs: {
    arg: 'ms',
    help: 'object storage request timeout; downloads: longest stall (default 30000)',
  },
  objectStoreRetries: { arg: 'n', help: 'retries of a failed object storage request (default 3)' },
  host: { arg: 'host', help: 'address to listen on (default 0.0.0.0, or 127.0.0.1 with --auth off)' },
  httpPort: {
    arg: 'port',
    help: 'HTTP port (also $AIP_HTTP_PORT, $SAGEMAKER_BIND_TO_PORT, $PORT; default 8080)',
  },
  grpcPort: { arg: 'port', help: 'gRPC port, 0 = any free port (default 8081)' },
  maxBodyBytes: { arg: 'n', help: 'largest request body in bytes (default 67108864 = 64 MiB)' },
  logLevel: { arg: 'level', help: 'fatal|error|warn|info|debug|trace|silent (default info)' },
  metricsFormat: {
    arg: 'inferd|triton|both',
    help: "metric names on /metrics: inferd's, Triton's nv_* (its Grafana dashboards work unchanged), or both (default inferd)",
  },
  strictReadiness: { help: 'ready only when every model is READY' },
  shutdownTimeoutMs: { arg: 'ms', help: 'longest drain on SIGTERM (default 30000)' },
  drainDelayMs: {
    arg: 'ms',
    help: 'after SIGTERM, keep serving this long with readiness 503 before draining (default 0)',
  },
  rolloutRetainMs: {
    arg: 'ms',
    help: 'after a rollout promote, the previous version stays loaded for instant rollback this long, then is unloaded unless its version policy or another alias keeps it (default 600000)',
  },
  rolloutReloadMs: {
    arg: 'ms',
    help: 'how often rollout states are read again from the store (default 2000)',
  },
  heapGrowingPercent: {
    arg: 'n',
    help: 'V8 heap limit after a full GC = live × (1 + n/100); 0 = V8 default (default 100)',
  },
  auth: {
    arg: 'on|off',
    help: 'API keys, limits and metering on /v1 (and /v2 inference), admin token for /v2 repository and statistics (default on)',
  },
  dataDir: { arg: 'dir', help: 'folder of the embedded key/usage store (default ./.inferd)' },
  databaseUrl: { arg: 'url', help: 'PostgreSQL for keys and usage, shared by replicas' },
  databaseSchema: { arg: 'name', help: 'PostgreSQL schema (default inferd)' },
  redisUrl: { arg: 'url', help: 'Redis for rate limits shared by replicas' },
  plansFile: { arg: 'file', help: 'JSON file of plans and model weights' },
  adminToken: {
    arg: 'token',
    help: 'enables /admin with this bearer token (prefer the environment variable)',
  },
  v2Auth: {
    arg: 'keys|off',
    help: '/v2 inference (REST, gRPC) with --auth on: customer keys, limits, metering (default keys)',
  },
  maxResponseBytes: {
    arg: 'n',
    help: 'largest response in bytes of output tensors (default 67108864 = 64 MiB)',
  },
  headersTimeoutMs: {
    arg: 'ms',
    help: 'request headers must arrive within this; 408 beyond (default 30000)',
  },
  bodyTimeoutMs: {
    arg: 'ms',
    help: 'the whole request (headers and body) must arrive within this; 408 beyond (default 300000)',
  },
  idleTimeoutMs: { arg: 'ms', help: 'idle connections close after this (keep-alive; default 65000)' },
  maxConnections: { arg: 'n', help: 'connections at once per transport; 503 beyond (default 1024)' },
  maxBufferedBodyBytes: {
    arg: 'n',
    help: 'request bodies held at once across connections; 503 beyond (default 268435456 = 256 MiB)',
  },
  grpcMaxConcurrentStreams: { arg: 'n', help: 'gRPC calls at once per connection (default 256)' },
  grpcMaxConnectionAgeMs: {
    arg: 'ms',
    help: 'gRPC connections get GOAWAY after this; 0 = never (default 0)',
  },
  maxRequestElements: {
    arg: 'n',
    help: 'most tensor elements in one request, all inputs together (default 16777216 = 16 Mi)',
  },
  shmMaxRegions: { arg: 'n', help: 'system shared-memory regions registered at once; 0 = off (default 256)' },
  shmMaxBytes: {
    arg: 'n',
    help: 'sum of registered system shared-memory byte sizes (default 68719476736 = 64 GiB)',
  },
  cacheSizeBytes: {
    arg: 'n',
    help: 'response cache budget in bytes, for models with response_cache enabled; 0 = off (default 67108864 = 64 MiB)',
  },
  syntheticWarmup: {
    arg: 'true|false',
    help: 'warm a model without model_warmup with one synthetic request at load (default true)',
  },
};

/** Flag and env names per setting, for messages and for reading the environment. */
export const SETTING_SOURCES = Object.fromEntries(
  Object.keys(SETTING_HELP).map((key) => [
    key,
    { flag: `--${kebab(key)}`, env: `INFERD_${kebab(key).replace(/-/g, '_').toUpperCase()}` },
  ]),
) as Record<keyof Settings, { flag: string; env: string }>;

export class SettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SettingsError';
  }
}

function fromEnv(env: NodeJS.ProcessEnv): SettingsInput {
  const out: SettingsInput = {};
  for (const [key, src] of Object.entries(SETTING_SOURCES) as [keyof Settings, { env: string }][]) {
    if (env[src.env] !== undefined && env[src.env] !== '') out[key] = env[src.env];
  }
  // Platform variables, below our own INFERD_* names. Each platform sets its own: Vertex AI
  // AIP_HTTP_PORT and the AIP_*_ROUTE paths, SageMaker SAGEMAKER_BIND_TO_PORT (multi-container
  // endpoints and inference pipelines; 8080 otherwise), Cloud Run PORT.
  out.httpPort ??= env.AIP_HTTP_PORT || env.SAGEMAKER_BIND_TO_PORT || env.PORT || undefined;
  out.vertexHealthRoute ??= env.AIP_HEALTH_ROUTE || undefined;
  out.vertexPredictRoute ??= env.AIP_PREDICT_ROUTE || undefined;
  // Vertex AI names the model artifacts' location (gs://…) in AIP_STORAGE_URI.
  out.modelRepository ??= env.AIP_STORAGE_URI || undefined;
  // The AWS SDKs' own variables for a custom endpoint (the S3-specific one first).
  out.s3Endpoint ??= env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || undefined;
  for (const k of [
    'httpPort',
    'vertexHealthRoute',
    'vertexPredictRoute',
    'modelRepository',
    's3Endpoint',
  ] as const) {
    if (out[k] === undefined) delete out[k];
  }
  return out;
}

function fromFile(path: string): SettingsInput {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new SettingsError(`config file '${path}' cannot be read: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new SettingsError(`config file '${path}' is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new SettingsError(`config file '${path}' must hold a JSON object of settings`);
  }
  const unknown = Object.keys(raw).filter((k) => !(k in SETTING_SOURCES));
  if (unknown.length > 0) {
    throw new SettingsError(
      `config file '${path}': unknown setting(s) ${unknown.join(', ')}; known: ${Object.keys(SETTING_SOURCES).join(', ')}`,
    );
  }
  return raw as SettingsInput;
}

/** Limits that only make sense together (connection limits: see their comments above). */
function checkLimits(
  s: Pick<Settings, 'headersTimeoutMs' | 'bodyTimeoutMs' | 'maxBodyBytes' | 'maxBufferedBodyBytes'>,
  ctx: z.RefinementCtx,
): void {
  if (s.bodyTimeoutMs < s.headersTimeoutMs) {
    ctx.addIssue({
      code: 'custom',
      path: ['bodyTimeoutMs'],
      message: `must be at least headersTimeoutMs (${s.headersTimeoutMs}): it covers the headers too`,
    });
  }
  if (s.maxBufferedBodyBytes < s.maxBodyBytes) {
    ctx.addIssue({
      code: 'custom',
      path: ['maxBufferedBodyBytes'],
      message: `must be at least maxBodyBytes (${s.maxBodyBytes}), or no body at the limit is ever accepted`,
    });
  }
}

/** Merges file < env < flags and validates. */
export function loadSettings(
  flags: SettingsInput,
  env: NodeJS.ProcessEnv = process.env,
  configFile?: string,
): Settings {
  const merged: SettingsInput = { ...(configFile ? fromFile(configFile) : {}), ...fromEnv(env) };
  for (const [k, v] of Object.entries(flags)) if (v !== undefined) merged[k as keyof Settings] = v;
  const res = settingsSchema.superRefine(checkLimits).safeParse(merged);
  if (!res.success) {
    const lines = res.error.issues.map((i) => {
      const key = String(i.path[0]) as keyof Settings;
      const src = SETTING_SOURCES[key];
      const where = src ? ` (flag ${src.flag}, env ${src.env})` : '';
      return `invalid setting ${key}${where}: ${i.message}, got ${JSON.stringify(merged[key])}`;
    });
    throw new SettingsError(lines.join('\n'));
  }
  const given = merged.modelRepository !== undefined;
  const control = resolveModelControl(merged.modelControlMode !== undefined, res.data);
  return {
    ...res.data,
    ...control,
    host: resolveHost(res.data.host, res.data.auth),
    modelRepository: resolveModelRepository(given, res.data.modelRepository, res.data.sagemakerModelDir),
  };
}

/**
 * Without --model-control-mode, inferd does what it always did: every model loads at start and the
 * repository API loads and unloads (explicit mode with --load-model '*'). With
 * `--model-control-mode explicit` and no --load-model, nothing loads at start (Triton's rule).
 * --load-model belongs to explicit mode only, as in Triton.
 */
function resolveModelControl(
  modeGiven: boolean,
  s: Pick<Settings, 'modelControlMode' | 'loadModel'>,
): Pick<Settings, 'loadModel'> {
  if (s.loadModel !== undefined && s.modelControlMode !== 'explicit') {
    throw new SettingsError(
      `invalid setting loadModel (flag --load-model, env INFERD_LOAD_MODEL): only with --model-control-mode explicit; mode '${s.modelControlMode}' loads every model`,
    );
  }
  return { loadModel: s.loadModel ?? (modeGiven ? [] : ['*']) };
}

/**
 * The repository: the one given (flag, env or config file); else SageMaker's model folder when it
 * exists and is not empty (SageMaker unpacked the model's ModelDataUrl there: `docker run IMAGE
 * serve` then serves it with no flag); else the default ./models (the image's embedded models).
 */
function resolveModelRepository(given: boolean, repository: string, sagemakerDir: string): string {
  if (given) return repository;
  try {
    if (readdirSync(sagemakerDir).length > 0) return sagemakerDir;
  } catch {
    // not on SageMaker (or nothing there): the default
  }
  return repository;
}

/**
 * The address to listen on: the one given (flag, env or config file), else every interface with
 * auth on and loopback only with auth off, so that a server without keys is never exposed by default.
 */
function resolveHost(given: string | undefined, auth: 'on' | 'off'): string {
  return given ?? (auth === 'off' ? '127.0.0.1' : '0.0.0.0');
}
