/**
 * The customer API under /v1: one encapsulated fastify plugin, so the gateway's hooks never touch
 * /v2, health, metrics, /admin or /docs. Per request, the customer gate (customer-gate.ts, shared
 * with /v2 inference and gRPC): key → scope → limits (payload, rate, quota, concurrency) in
 * onRequest, before the body is read; the plan's payload limit again on the bytes actually read
 * (preParsing for parsed bodies, the multipart reader for uploads); the usage record is committed
 * in onSend, before the response leaves (meterUsage's contract). Errors are RFC 9457 problem+json.
 */
import { clip } from '../core/clip.js';
import { Transform, type TransformCallback } from 'node:stream';
import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { registerPredictRoutes } from './api/predict.js';
import {
  isFeedbackRoute,
  registerFeedbackRoutes,
  type FeedbackListener,
  type PredictionLog,
} from './feedback.js';
import { InferdError } from '../errors.js';
import type { InferenceService } from '../service/inference-service.js';
import type { ApiKeyRecord, Store } from './store/types.js';
import type { CustomerGate, GateCall } from './customer-gate.js';
import { sendProblem } from './problem.js';
import { registerUsageRoutes } from './usage-routes.js';
import { registerAccountRoutes } from './account-routes.js';
import type { PlanSet } from './plans.js';
import type { RecentErrors } from './recent-errors.js';

export interface GatewayDeps {
  /** undefined = auth off (local development): no keys, limits or metering. */
  gate?: CustomerGate;
  store?: Store;
  plans: PlanSet;
  /** Each key's last failures with their request ids (GET /v1/account). */
  recentErrors: RecentErrors;
  /** The prediction log for feedback (undefined without a store). */
  predictions?: PredictionLog;
  /** Told of each accepted feedback (live accuracy metrics). */
  onFeedback?: FeedbackListener;
}

export interface CustomerApiOptions {
  service: InferenceService;
  gateway: GatewayDeps;
  logger: Logger;
  maxBodyBytes: number;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated key on /v1 routes (undefined when auth is off). */
    apiKey?: ApiKeyRecord;
    /** The customer gate's call on /v1 routes (undefined when auth is off). */
    gateCall?: GateCall;
  }
}

/** The model a call is charged to; feedback names one but is an account call (no units, not metered). */
function modelOf(req: FastifyRequest): string | undefined {
  if (isFeedbackRoute(req)) return undefined;
  const p = req.params as { name?: unknown } | undefined;
  return typeof p?.name === 'string' ? p.name : undefined;
}

/** Passes a body through, failing with `tooLarge()` as soon as more than `max` bytes went by. */
class ByteLimit extends Transform {
  private seen = 0;
  constructor(
    private readonly max: number,
    private readonly tooLarge: () => InferdError,
  ) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.max) cb(this.tooLarge());
    else cb(null, chunk);
  }
}

/**
 * Bodies @fastify/multipart takes (its parser reads the raw request itself, so it must not be
 * piped here; the content-type parser, hence req.isMultipart(), runs only after preParsing).
 */
const MULTIPART = /^\s*multipart\/form-data\s*(;|$)/i;

/** The rest of an over-limit body is not read: the connection closes after the answer. */
function closing(e: InferdError): InferdError {
  e.headers.connection = 'close';
  return e;
}

export async function registerCustomerApi(app: FastifyInstance, opts: CustomerApiOptions): Promise<void> {
  const g = opts.gateway;
  await app.register(
    async (v1) => {
      v1.setErrorHandler((err, req, reply) => {
        sendProblem(err, req, reply);
        if (req.apiKey) {
          g.recentErrors.add(req.apiKey.id, {
            time: new Date().toISOString(),
            request_id: req.id,
            method: req.method,
            path: req.url.split('?')[0]!,
            status: reply.statusCode,
            code: err instanceof InferdError ? err.code : 'internal',
          });
        }
        return reply;
      });
      v1.setNotFoundHandler((req, reply) =>
        sendProblem(
          new InferdError('not_found', `no route ${req.method} ${clip(req.url.split('?')[0], 256)}`),
          req,
          reply,
        ),
      );
      await v1.register(multipart, {
        limits: { fileSize: opts.maxBodyBytes, files: 4, fields: 16, fieldSize: 1024 * 1024 },
      });

      const gate = g.gate;
      if (gate) {
        v1.addHook('onRequest', async (req, reply) => {
          const call = gate.call();
          req.gateCall = call;
          const len = req.headers['content-length'];
          try {
            await gate.begin(call, {
              authorization: req.headers.authorization,
              queryNames: Object.keys((req.query as object | undefined) ?? {}),
              model: modelOf(req),
              declaredBytes: len === undefined ? undefined : Number(len),
            });
          } finally {
            req.apiKey = call.key;
            for (const [k, v] of Object.entries(call.headers)) void reply.header(k, v);
          }
        });
        // The plan's limit on the bytes actually read (chunked bodies carry no Content-Length):
        // parsed bodies stop at the limit here; multipart uploads in the predict route's reader,
        // since @fastify/multipart reads the raw request itself.
        v1.addHook('preParsing', async (req, _reply, payload) => {
          const call = req.gateCall;
          const max = call && gate.maxBodyBytes(call);
          if (!call || max === undefined || MULTIPART.test(req.headers['content-type'] ?? '')) return payload;
          const limit = new ByteLimit(max, () => closing(gate.tooLarge(call)));
          payload.on('error', (err) => limit.destroy(err));
          return payload.pipe(limit);
        });
        // Belt and braces: whatever parser read a body, its size is known here.
        v1.addHook('preHandler', async (req) => {
          if (req.gateCall && Buffer.isBuffer(req.body)) gate.checkBytes(req.gateCall, req.body.length);
        });
        v1.addHook('onSend', async (req: FastifyRequest, reply: FastifyReply) => {
          if (!req.gateCall) return;
          // Durable before the response goes out: a crash after this point cannot lose the record.
          await gate.finish(req.gateCall, {
            model: modelOf(req),
            version: String(
              reply.getHeader('x-model-version') ?? (req.params as { version?: string }).version ?? '',
            ),
            status: reply.statusCode,
            latencyMs: reply.elapsedTime,
          });
        });
        // A client that disconnects never reaches onSend; free its slot anyway.
        v1.addHook('onResponse', async (req) => {
          if (req.gateCall) await gate.abandon(req.gateCall);
        });
        v1.addHook('onRequestAbort', async (req) => {
          if (req.gateCall) await gate.abandon(req.gateCall);
        });
      }

      registerPredictRoutes(v1, opts.service, {
        maxBodyBytes: opts.maxBodyBytes,
        planLimit: (req) => {
          const call = req.gateCall;
          const max = call && gate?.maxBodyBytes(call);
          return call && gate && max !== undefined
            ? { max, tooLarge: () => closing(gate.tooLarge(call)) }
            : undefined;
        },
        onAnswer: async (req, a) => {
          if (req.apiKey && g.predictions) await g.predictions.record({ ...a, key: req.apiKey });
        },
      });
      registerFeedbackRoutes(v1, { service: opts.service, store: g.store, onFeedback: g.onFeedback });
      registerUsageRoutes(v1, g.store);
      registerAccountRoutes(v1, {
        service: opts.service,
        store: g.store,
        plans: g.plans,
        recentErrors: g.recentErrors,
      });
    },
    { prefix: '/v1' },
  );
}
