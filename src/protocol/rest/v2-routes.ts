/**
 * Open Inference Protocol v2 REST endpoints (KServe/Triton paths), plus Triton's model repository
 * and statistics extensions. Every route has a form with and without `/versions/{v}`.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { loadOverrideFrom } from '../repository-load.js';
import { tritonModelConfig } from '../triton-model-config.js';
import { ENVELOPE_VALUES, parseJsonBody } from '../http/json-body.js';
import type { InferenceService } from '../../service/inference-service.js';

type ModelParams = { model: string; version?: string };

/** Per-request facts the access log line carries (set by the infer routes). */
export interface InferLogFields {
  model?: string;
  version?: string;
  queueMs?: number;
  computeMs?: number;
}

declare module 'fastify' {
  interface FastifyRequest {
    inferLog?: InferLogFields;
  }
}

export function registerV2Routes(app: FastifyInstance, service: InferenceService): void {
  app.get('/v2/health/live', async (_req, reply) => reply.code(service.live() ? 200 : 503).send());
  app.get('/v2/health/ready', async (_req, reply) => reply.code(service.ready() ? 200 : 503).send());
  app.get('/v2', async () => service.serverMetadata());

  const metadata = async (req: FastifyRequest<{ Params: ModelParams }>) =>
    service.modelMetadata(req.params.model, req.params.version);
  app.get('/v2/models/:model', metadata);
  app.get('/v2/models/:model/versions/:version', metadata);

  const ready = async (req: FastifyRequest<{ Params: ModelParams }>, reply: FastifyReply) =>
    reply.code(service.modelReady(req.params.model, req.params.version) ? 200 : 503).send();
  app.get('/v2/models/:model/ready', ready);
  app.get('/v2/models/:model/versions/:version/ready', ready);

  // Triton's JSON shape of the completed config (auto-complete filled), as tritonclient reads it.
  const config = async (req: FastifyRequest<{ Params: ModelParams }>) =>
    tritonModelConfig(service.modelConfig(req.params.model, req.params.version));
  app.get('/v2/models/:model/config', config);
  app.get('/v2/models/:model/versions/:version/config', config);

  // POST .../infer is served ahead of fastify on the raw HTTP server: see infer-route.ts.

  // Statistics extension (Triton's shape).
  app.get('/v2/models/stats', async () => ({ model_stats: service.statistics() }));
  const stats = async (req: FastifyRequest<{ Params: ModelParams }>) => ({
    model_stats: service.statistics(req.params.model, req.params.version),
  });
  app.get('/v2/models/:model/stats', stats);
  app.get('/v2/models/:model/versions/:version/stats', stats);

  // Model repository extension.
  app.post('/v2/repository/index', async (req) => {
    const body = parseOptionalJson(req.body as Buffer | undefined);
    const readyOnly = body?.ready === true;
    const index = await service.repositoryIndex();
    return readyOnly ? index.filter((e) => e.state === 'READY') : index;
  });
  app.post(
    '/v2/repository/models/:model/load',
    async (req: FastifyRequest<{ Params: ModelParams }>, reply) => {
      const body = parseOptionalJson(req.body as Buffer | undefined);
      await service.loadModel(req.params.model, loadOverrideFrom(body?.parameters));
      return reply.code(200).send();
    },
  );
  app.post(
    '/v2/repository/models/:model/unload',
    async (req: FastifyRequest<{ Params: ModelParams }>, reply) => {
      await service.unloadModel(req.params.model);
      return reply.code(200).send();
    },
  );
}

/** A repository request's body: parameters only, so no tensor elements (json-body.ts). */
function parseOptionalJson(raw: Buffer | undefined): Record<string, unknown> | undefined {
  if (!raw || raw.length === 0) return undefined;
  const v = parseJsonBody(raw, {
    maxValues: ENVELOPE_VALUES,
    why: 'a repository request holds parameters, not tensors',
  });
  return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : undefined;
}
