/**
 * Access control is one policy table: every REST route and gRPC method the server
 * serves belongs to one category, and each category needs one credential. The categories are
 * Triton's (`--http-restricted-api` / `--grpc-restricted-protocol`: health, metadata, inference,
 * model-config, model-repository, statistics, shared-memory) plus inferd's own (metrics, docs, customer-api,
 * admin-api). Every transport consults this file: the fastify hook (src/protocol/rest/app.ts), the
 * raw infer route and the gRPC server. A route or method missing here refuses to register, so the
 * server does not start with an unclassified endpoint. docs/access-control.md gives the reasons.
 */

export type ApiCategory =
  | 'health'
  | 'metadata'
  | 'model-config'
  | 'inference'
  | 'model-repository'
  | 'statistics'
  | 'shared-memory'
  | 'metrics'
  | 'docs'
  | 'portal'
  | 'customer-api'
  | 'admin-api';

/** What a call must carry: nothing, a customer API key, or the admin token. */
export type Credential = 'none' | 'customer-key' | 'admin-token';

export interface AccessSettings {
  auth: 'on' | 'off';
  v2Auth: 'keys' | 'off';
}

/** The policy: the credential each category needs under the settings. */
export function credentialFor(category: ApiCategory, s: AccessSettings): Credential {
  switch (category) {
    // Probes, discovery and scraping: orchestrators and clients call them without secrets, and
    // they change nothing.
    case 'health':
    case 'metadata':
    case 'model-config':
    case 'metrics':
    case 'docs':
      return 'none';
    // The portal's static files, and its session routes, which check the credential they are
    // given themselves (src/gateway/session-routes.ts).
    case 'portal':
      return 'none';
    // Paid work: keys, plans, quotas and metering, as on /v1.
    case 'inference':
      return s.auth === 'on' && s.v2Auth === 'keys' ? 'customer-key' : 'none';
    case 'customer-api':
      return s.auth === 'on' ? 'customer-key' : 'none';
    // Changes server state for every customer (load, unload) or shows every customer's traffic.
    case 'model-repository':
    case 'statistics':
      return s.auth === 'on' ? 'admin-token' : 'none';
    // Points the server at host memory (/dev/shm) that every later request may read and write:
    // an operator's act, like loading a model. Inference that names a region needs only what
    // inference needs.
    case 'shared-memory':
      return s.auth === 'on' ? 'admin-token' : 'none';
    // Key management: the admin token even with auth off (it is mounted only with a token).
    case 'admin-api':
      return 'admin-token';
  }
}

/** Human words for a category, in refusals. */
export const CATEGORY_NAMES: Record<ApiCategory, string> = {
  health: 'health',
  metadata: 'metadata',
  'model-config': 'model configuration',
  inference: 'inference',
  'model-repository': 'the model repository API (index, load, unload)',
  statistics: 'the statistics API',
  'shared-memory': 'the shared-memory API (register, unregister, status)',
  metrics: 'metrics',
  docs: 'the API documentation',
  portal: 'the portal',
  'customer-api': 'the customer API',
  'admin-api': 'the admin API',
};

/**
 * Every REST route, as `METHOD url-pattern` (fastify's route syntax; HEAD follows GET). The infer
 * routes are served ahead of fastify on the raw HTTP server (src/protocol/rest/infer-route.ts).
 */
export const REST_POLICY: Readonly<Record<string, ApiCategory>> = {
  'GET /v2/health/live': 'health',
  'GET /v2/health/ready': 'health',
  // SageMaker's health check and inference (docs/deploy/sagemaker.md): the platform calls them
  // with no credential of ours, so they need keys exactly when /v2 inference does.
  'GET /ping': 'health',
  'POST /invocations': 'inference',
  'GET /v2/models/:model/ready': 'health',
  'GET /v2/models/:model/versions/:version/ready': 'health',
  'GET /v2': 'metadata',
  'GET /v2/models/:model': 'metadata',
  'GET /v2/models/:model/versions/:version': 'metadata',
  'GET /v2/models/:model/config': 'model-config',
  'GET /v2/models/:model/versions/:version/config': 'model-config',
  'POST /v2/models/:model/infer': 'inference',
  'POST /v2/models/:model/versions/:version/infer': 'inference',
  'GET /v2/models/stats': 'statistics',
  'GET /v2/models/:model/stats': 'statistics',
  'GET /v2/models/:model/versions/:version/stats': 'statistics',
  'POST /v2/repository/index': 'model-repository',
  'POST /v2/repository/models/:model/load': 'model-repository',
  'POST /v2/repository/models/:model/unload': 'model-repository',
  'GET /v2/systemsharedmemory/status': 'shared-memory',
  'GET /v2/systemsharedmemory/region/:region/status': 'shared-memory',
  'POST /v2/systemsharedmemory/region/:region/register': 'shared-memory',
  'POST /v2/systemsharedmemory/unregister': 'shared-memory',
  'POST /v2/systemsharedmemory/region/:region/unregister': 'shared-memory',
  'GET /v2/cudasharedmemory/status': 'shared-memory',
  'GET /v2/cudasharedmemory/region/:region/status': 'shared-memory',
  'POST /v2/cudasharedmemory/region/:region/register': 'shared-memory',
  'POST /v2/cudasharedmemory/unregister': 'shared-memory',
  'POST /v2/cudasharedmemory/region/:region/unregister': 'shared-memory',
  'GET /metrics': 'metrics',
  'GET /openapi.json': 'docs',
  'GET /docs': 'docs',
  'GET /docs/init.js': 'docs',
  'GET /docs/assets/:file': 'docs',
  'GET /': 'portal',
  'GET /assets/:file': 'portal',
  'POST /session': 'portal',
  'GET /session': 'portal',
  'DELETE /session': 'portal',
  'GET /v1/models': 'customer-api',
  'GET /v1/account': 'customer-api',
  'GET /v1/keys': 'customer-api',
  'POST /v1/keys': 'customer-api',
  'POST /v1/keys/:id/rotate': 'customer-api',
  'POST /v1/keys/:id/revoke': 'customer-api',
  'POST /v1/models/:name/predict': 'customer-api',
  'POST /v1/models/:name/versions/:version/predict': 'customer-api',
  'POST /v1/models/:name/feedback': 'customer-api',
  'GET /v1/usage': 'customer-api',
  'POST /admin/keys': 'admin-api',
  'GET /admin/keys': 'admin-api',
  'POST /admin/keys/:id/revoke': 'admin-api',
  'POST /admin/keys/:id/rotate': 'admin-api',
  'GET /admin/usage': 'admin-api',
  'GET /admin/usage/totals': 'admin-api',
  'GET /admin/rollouts': 'admin-api',
  'GET /admin/rollouts/:model': 'admin-api',
  'POST /admin/rollouts/:model': 'admin-api',
  'POST /admin/rollouts/:model/promote': 'admin-api',
  'POST /admin/rollouts/:model/rollback': 'admin-api',
};

/** The routes the raw HTTP server serves ahead of fastify (fastify never sees them). */
export const RAW_ROUTES: readonly string[] = [
  'POST /invocations',
  'POST /v2/models/:model/infer',
  'POST /v2/models/:model/versions/:version/infer',
];

/**
 * Routes whose path the platform chooses at deploy time (Vertex AI's $AIP_HEALTH_ROUTE and
 * $AIP_PREDICT_ROUTE), served on the raw HTTP server when set (src/protocol/platforms/): their
 * categories. The predict route is inference, like /v2 and /invocations.
 */
export const VERTEX_ROUTE_POLICY = { health: 'health', predict: 'inference' } as const satisfies Record<
  string,
  ApiCategory
>;

/** Every gRPC method, by its full path (`/package.Service/Method`). */
export const GRPC_POLICY: Readonly<Record<string, ApiCategory>> = {
  '/inference.GRPCInferenceService/ServerLive': 'health',
  '/inference.GRPCInferenceService/ServerReady': 'health',
  '/inference.GRPCInferenceService/ModelReady': 'health',
  '/inference.GRPCInferenceService/ServerMetadata': 'metadata',
  '/inference.GRPCInferenceService/ModelMetadata': 'metadata',
  '/inference.GRPCInferenceService/ModelConfig': 'model-config',
  '/inference.GRPCInferenceService/ModelInfer': 'inference',
  '/inference.GRPCInferenceService/ModelStreamInfer': 'inference',
  '/inference.GRPCInferenceService/ModelStatistics': 'statistics',
  '/inference.GRPCInferenceService/RepositoryIndex': 'model-repository',
  '/inference.GRPCInferenceService/RepositoryModelLoad': 'model-repository',
  '/inference.GRPCInferenceService/RepositoryModelUnload': 'model-repository',
  '/inference.GRPCInferenceService/SystemSharedMemoryStatus': 'shared-memory',
  '/inference.GRPCInferenceService/SystemSharedMemoryRegister': 'shared-memory',
  '/inference.GRPCInferenceService/SystemSharedMemoryUnregister': 'shared-memory',
  '/inference.GRPCInferenceService/CudaSharedMemoryStatus': 'shared-memory',
  '/inference.GRPCInferenceService/CudaSharedMemoryRegister': 'shared-memory',
  '/inference.GRPCInferenceService/CudaSharedMemoryUnregister': 'shared-memory',
  '/grpc.health.v1.Health/Check': 'health',
  '/grpc.health.v1.Health/Watch': 'health',
  // The service descriptions are the public .proto files.
  '/grpc.reflection.v1.ServerReflection/ServerReflectionInfo': 'metadata',
  '/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo': 'metadata',
};

/** The category of a REST route (fastify's url pattern), or undefined when it is not in the table. */
export function restCategory(method: string, url: string): ApiCategory | undefined {
  return REST_POLICY[`${method === 'HEAD' ? 'GET' : method} ${url}`];
}

/** The category of a gRPC method path, or undefined when it is not in the table. */
export function grpcCategory(path: string): ApiCategory | undefined {
  return GRPC_POLICY[path];
}
