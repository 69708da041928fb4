/**
 * The HTTP server (fastify): body limits, request ids, one access-log line per request, error mapping,
 * and the route groups. Bodies are read raw so that each route decides how to decode them.
 */
import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { InferdError } from '../../errors.js';
import { redactUrl } from '../../observability/logger.js';
import type { Metrics } from '../../observability/metrics.js';
import type { InferenceService } from '../../service/inference-service.js';
import { sendError } from './errors.js';
import { registerV2Routes } from './v2-routes.js';

export interface RestOptions {
  service: InferenceService;
  metrics: Metrics;
  logger: Logger;
  /** Largest accepted request body in bytes (413 beyond). */
  maxBodyBytes: number;
}

const QUIET_ROUTES = new Set(['/v2/health/live', '/v2/health/ready', '/metrics']);
const REQUEST_ID = /^[\w.:-]{1,128}$/;

export function createRestApp(opts: RestOptions): FastifyInstance {
  const app = Fastify({
    loggerInstance: opts.logger as FastifyBaseLogger,
    // Our own access line (onResponse below) replaces fastify's two per-request lines.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: opts.maxBodyBytes,
    // Echo a client's x-request-id when it is sane, otherwise make one.
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    requestIdHeader: false,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    keepAliveTimeout: 65_000,
  });

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: opts.maxBodyBytes }, (_req, body, done) =>
    done(null, body),
  );

  // Callback hooks: they run on every request, where a promise each is measurable (see v2-routes).
  app.addHook('onRequest', (req, reply, done) => {
    void reply.header('x-request-id', req.id);
    done();
  });

  app.addHook('onResponse', (req, reply, done) => {
    const quiet = QUIET_ROUTES.has(req.url);
    if (!opts.logger.isLevelEnabled(quiet ? 'debug' : 'info')) return done();
    const line = {
      reqId: req.id,
      method: req.method,
      url: redactUrl(req.url),
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime * 100) / 100,
      ...(req.inferLog ?? {}),
    };
    if (quiet) req.log.debug(line, 'request');
    else req.log.info(line, 'request');
    done();
  });

  app.setErrorHandler((err, req, reply) => sendError(err, req, reply));
  app.setNotFoundHandler((req, reply) =>
    sendError(new InferdError('not_found', `no route ${req.method} ${req.url}`), req, reply),
  );

  app.get('/metrics', async (_req, reply) => {
    const body = await opts.metrics.registry.metrics();
    return reply.type(opts.metrics.registry.contentType).send(body);
  });

  registerV2Routes(app, opts.service);
  return app;
}
