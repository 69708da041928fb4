/**
 * The cloud platforms' HTTP contracts, assembled for the composition root (docs/deploy/):
 * SageMaker's GET /ping and POST /invocations always (they cost nothing when unused), Vertex AI's
 * health and predict routes when their paths are set ($AIP_HEALTH_ROUTE, $AIP_PREDICT_ROUTE).
 * The inference endpoints run on the v2 infer route's machinery, so the access policy puts them
 * in category inference like /v2 (POST /invocations, VERTEX_ROUTE_POLICY.predict); the health
 * routes are open like every health route.
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { InferenceService } from '../../service/inference-service.js';
import type { InferEndpoint, RawHandler } from '../rest/infer-route.js';
import { healthRoute } from './health-route.js';
import { invocationsEndpoint, registerPing } from './sagemaker.js';
import { vertexPredictEndpoint } from './vertex.js';

export interface PlatformSettings {
  /** The model of /invocations and the Vertex predict route when the repository has several. */
  defaultModel?: string;
  /** Vertex AI's $AIP_HEALTH_ROUTE: readiness on this path too. */
  vertexHealthRoute?: string;
  /** Vertex AI's $AIP_PREDICT_ROUTE: `{"instances": [...]}` predictions on this path. */
  vertexPredictRoute?: string;
}

export interface PlatformRoutes {
  /** For createRestApp: inference endpoints beside /v2 infer, tried first. */
  endpoints: InferEndpoint[];
  /** For createRestApp: handlers on the raw HTTP server. */
  rawRoutes: RawHandler[];
  /** Registers the fastify routes (GET /ping); call before the app listens. */
  register(app: FastifyInstance): void;
}

export function platformRoutes(
  service: InferenceService,
  logger: Logger,
  s: PlatformSettings,
): PlatformRoutes {
  const endpoints: InferEndpoint[] = [invocationsEndpoint(service, s.defaultModel)];
  if (s.vertexPredictRoute !== undefined) {
    endpoints.unshift(vertexPredictEndpoint(service, s.vertexPredictRoute, s.defaultModel));
  }
  const rawRoutes: RawHandler[] = [];
  if (s.vertexHealthRoute !== undefined) rawRoutes.push(healthRoute(s.vertexHealthRoute, service, logger));
  return { endpoints, rawRoutes, register: (app) => registerPing(app, service) };
}
