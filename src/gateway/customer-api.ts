/**
 * The customer API under /v1: one encapsulated fastify plugin, so the gateway's hooks never touch
 * /v2, health, metrics, /admin or /docs. Per request: apiKeyAuth → scope → rateLimit (payload, rate,
 * quota, concurrency) in onRequest, before the body is read; the usage record is committed in onSend,
 * before the response leaves (meterUsage's contract). Errors are RFC 9457 problem+json.
 */
import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { registerPredictRoutes } from './api/predict.js';
import { InferdError } from '../errors.js';
import type { InferenceService } from '../service/inference-service.js';
import type { Store } from './store/types.js';
import { requireScope, type Authenticate } from './auth.js';
import type { Admission, Admit } from './limits.js';
import type { UsageMeter } from './metering.js';
import { sendProblem } from './problem.js';
import { registerUsageRoutes } from './usage-routes.js';

export interface GatewayDeps {
  /** undefined = auth off (local development): no keys, limits or metering. */
  authenticate?: Authenticate;
  admit?: Admit;
  meter?: UsageMeter;
  store?: Store;
}

export interface CustomerApiOptions {
  service: InferenceService;
  gateway: GatewayDeps;
  logger: Logger;
  maxBodyBytes: number;
}

declare module 'fastify' {
  interface FastifyRequest {
    admission?: Admission;
  }
}

function modelOf(req: FastifyRequest): string | undefined {
  const p = req.params as { name?: unknown } | undefined;
  return typeof p?.name === 'string' ? p.name : undefined;
}

export async function registerCustomerApi(app: FastifyInstance, opts: CustomerApiOptions): Promise<void> {
  const g = opts.gateway;
  await app.register(
    async (v1) => {
      v1.setErrorHandler((err, req, reply) => sendProblem(err, req, reply));
      v1.setNotFoundHandler((req, reply) =>
        sendProblem(
          new InferdError('not_found', `no route ${req.method} ${req.url.split('?')[0]}`),
          req,
          reply,
        ),
      );
      await v1.register(multipart, {
        limits: { fileSize: opts.maxBodyBytes, files: 4, fields: 16, fieldSize: 1024 * 1024 },
      });

      if (g.authenticate && g.admit) {
        const authenticate = g.authenticate;
        const admit = g.admit;
        v1.addHook('onRequest', async (req, reply) => {
          const key = await authenticate(req);
          req.apiKey = key;
          const model = modelOf(req);
          if (model !== undefined) requireScope(key, model);
          const len = req.headers['content-length'];
          req.admission = await admit(key, model, len === undefined ? undefined : Number(len), reply);
        });
        // Chunked bodies carry no Content-Length: check the plan's limit once the body is read.
        v1.addHook('preHandler', async (req) => {
          const max = req.admission?.maxPayloadBytes;
          if (max !== undefined && Buffer.isBuffer(req.body) && req.body.length > max) {
            throw new InferdError(
              'payload_too_large',
              `the request body (${req.body.length} bytes) is larger than the plan's limit of ${max} bytes`,
            );
          }
        });
      }

      v1.addHook('onSend', async (req: FastifyRequest, reply: FastifyReply) => {
        const failed = reply.statusCode >= 400;
        const model = modelOf(req);
        if (g.meter && req.apiKey && model !== undefined) {
          // Durable before the response goes out: a crash after this point cannot lose the record.
          await g.meter.record({
            keyId: req.apiKey.id,
            model,
            version: String(
              reply.getHeader('x-model-version') ?? (req.params as { version?: string }).version ?? '',
            ),
            status: reply.statusCode,
            units: failed ? 0 : (req.admission?.units ?? 0),
            latencyMs: Math.round(reply.elapsedTime * 1000) / 1000,
            time: Date.now(),
          });
        }
        await req.admission?.done(failed);
      });
      // A client that disconnects never reaches onSend; free its slot anyway.
      v1.addHook('onResponse', async (req, reply) => {
        await req.admission?.done(reply.statusCode >= 400);
      });
      v1.addHook('onRequestAbort', async (req) => {
        await req.admission?.done(true);
      });

      registerPredictRoutes(v1, opts.service);
      registerUsageRoutes(v1, g.store);
    },
    { prefix: '/v1' },
  );
}
