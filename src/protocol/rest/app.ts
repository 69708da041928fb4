/**
 * The HTTP server (fastify): body limits, connection limits, request ids, one access-log line per
 * request, error mapping, and the route groups. Bodies are read raw so that each route decides how
 * to decode them.
 */
import { clip } from '../../core/clip.js';
import { createServer } from 'node:http';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { AccessControl } from '../../gateway/access.js';
import { restCategory } from '../../gateway/access-policy.js';
import { InferdError } from '../../errors.js';
import type { Metrics } from '../../observability/metrics.js';
import type { InferenceService } from '../../service/inference-service.js';
import { logAccess } from './access-log.js';
import { ConnectionGuard, serverOptions, type HttpLimits } from './connection-guard.js';
import { decodeRequestBody } from '../http/content-encoding.js';
import { errorSenderFor, fromFastifyError, payloadTooLarge } from '../http/errors.js';
import { sendError } from './errors.js';
import { inferRoute, requestIdOf, type InferEndpoint, type RawHandler } from './infer-route.js';
import { registerV2Routes } from './v2-routes.js';
import { registerSharedMemoryRoutes } from './shm-routes.js';

export interface RestOptions {
  service: InferenceService;
  metrics: Metrics;
  logger: Logger;
  /** Largest accepted request body in bytes (413 beyond). */
  maxBodyBytes: number;
  /** The access policy: admin-token routes are checked here, customer keys in their routes. */
  access: AccessControl;
  /** Timeouts, connection cap and body budget (connection-guard.ts). */
  limits: HttpLimits;
  /**
   * More inference endpoints served by the infer route's machinery (its gate, limits, shedding and
   * access log), and more handlers on the raw HTTP server: the cloud platforms' contracts
   * (src/protocol/platforms/), given by the composition root.
   */
  endpoints?: readonly InferEndpoint[];
  rawRoutes?: readonly RawHandler[];
}

/** Every route fastify registered (method, url pattern), in order: the access-policy test reads it. */
const ROUTES = new WeakMap<FastifyInstance, Array<{ method: string; url: string }>>();

export function registeredRoutes(app: FastifyInstance): ReadonlyArray<{ method: string; url: string }> {
  return ROUTES.get(app) ?? [];
}

const QUIET_ROUTES = new Set(['/v2/health/live', '/v2/health/ready', '/ping', '/metrics']);

export function createRestApp(opts: RestOptions): FastifyInstance {
  const { access } = opts;
  const guard = new ConnectionGuard(opts.limits, opts.logger);
  const raw: RawHandler[] = [
    ...(opts.rawRoutes ?? []),
    inferRoute({
      ...opts,
      guard,
      gate: access.credential('inference') === 'customer-key' ? access.gate : undefined,
      endpoints: opts.endpoints,
    }),
  ];
  let closing = false;
  const app: FastifyInstance = Fastify({
    // The infer route runs on the raw server first; fastify serves everything else.
    serverFactory: (handler) => {
      const server = createServer(serverOptions(opts.limits), (req, res) => {
        // Shutting down: this answer ends its keep-alive connection, so a client (or a load
        // balancer's pool, or kube-proxy's L4 connection, which stays with this pod) reconnects
        // and reaches a replica that stays.
        if (opts.service.isLeaving) res.setHeader('connection', 'close');
        if (!raw.some((take) => take(req, res))) handler(req, res);
      });
      guard.attach(server);
      return server;
    },
    loggerInstance: opts.logger as FastifyBaseLogger,
    // Our own access line (onResponse below) replaces fastify's two per-request lines.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: opts.maxBodyBytes,
    // Echo a client's x-request-id when it is sane, otherwise make one.
    genReqId: (req) => requestIdOf(req.headers),
    requestIdHeader: false,
    // Our own 503 while closing (the onRequest hook below): fastify's has no `code`.
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    keepAliveTimeout: opts.limits.idleTimeoutMs,
    // Errors raised before routing (a malformed URL escape, an over-long path segment) and at the
    // connection (timeouts, malformed HTTP) in our shape, not fastify's `{"statusCode": …}`.
    frameworkErrors: (err, req, reply) => {
      void reply.header('x-request-id', req.id);
      errorSenderFor(app, req.url, sendError)(fromFastifyError(err), req, reply);
    },
    clientErrorHandler: guard.clientErrorHandler,
  });

  // Fail closed: a route without an entry in the access-policy table does not register, so the
  // server does not start with an unclassified endpoint.
  const routes: Array<{ method: string; url: string }> = [];
  ROUTES.set(app, routes);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) {
      if (restCategory(method, route.url) === undefined) {
        throw new Error(
          `route ${method} ${route.url} has no entry in the access policy (src/gateway/access-policy.ts)`,
        );
      }
      routes.push({ method, url: route.url });
    }
  });
  app.removeAllContentTypeParsers();
  // A gzip or deflate body (Content-Encoding) is decompressed within the same limit (content-encoding.ts).
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: opts.maxBodyBytes }, (req, body, done) => {
    decodeRequestBody(req.headers['content-encoding'], body as Buffer, opts.maxBodyBytes, () =>
      payloadTooLarge(opts.maxBodyBytes),
    ).then(
      (decoded) => done(null, decoded),
      (err: Error) => done(err, undefined),
    );
  });

  // Callback hooks: they run on every request, where a promise each is measurable (see v2-routes).
  app.addHook('onRequest', (req, reply, done) => {
    void reply.header('x-request-id', req.id);
    if (closing) {
      done(
        new InferdError('server_draining', 'the server is shutting down; retry on another replica', {
          headers: { 'retry-after': '1', connection: 'close' },
        }),
      );
      return;
    }
    // Before the body is read: the connection cap and the body budget (connection-guard.ts).
    // Probes and scrapes are answered even beyond the cap: a connection flood must not make
    // Kubernetes restart a server that is alive (they carry no body).
    done(QUIET_ROUTES.has(req.url) ? undefined : guard.admit(req.raw, reply.raw, opts.maxBodyBytes));
  });
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });

  // Admin-token routes (access policy), before the body is read or the handler runs; the refusal
  // reaches the route's own error handler, so /v2 answers {"error","code"} and /admin problem+json.
  // Customer-key routes run the customer gate themselves (/v1 plugin, raw infer route).
  app.addHook('onRequest', (req, _reply, done) => {
    const url = req.routeOptions.url;
    const category = url === undefined ? undefined : restCategory(req.method, url);
    try {
      // A portal session cookie stands for the credential it was opened with (the session routes
      // read the cookie themselves); an explicit Authorization header wins.
      if (access.session && category !== 'portal' && req.headers.authorization === undefined) {
        const authorization = access.session(req.method, req.headers);
        if (authorization !== undefined) req.headers.authorization = authorization;
      }
      if (category !== undefined && access.credential(category) === 'admin-token') {
        access.requireAdmin(req.headers.authorization, category);
      }
    } catch (err) {
      done(err as Error);
      return;
    }
    done();
  });

  app.addHook('onResponse', (req, reply, done) => {
    const level = QUIET_ROUTES.has(req.url) ? 'debug' : 'info';
    const entry = {
      reqId: req.id,
      method: req.method,
      url: req.url,
      status: reply.statusCode,
      ms: reply.elapsedTime,
    };
    logAccess(opts.logger, level, entry, req.inferLog); // the line carries reqId itself
    done();
  });

  app.setErrorHandler((err, req, reply) => sendError(err, req, reply));
  app.setNotFoundHandler((req, reply) =>
    sendError(new InferdError('not_found', `no route ${req.method} ${clip(req.url, 256)}`), req, reply),
  );

  app.get('/metrics', async (_req, reply) => {
    const body = await opts.metrics.exposed.metrics();
    return reply.type(opts.metrics.exposed.contentType).send(body);
  });

  registerV2Routes(app, opts.service);
  registerSharedMemoryRoutes(app, opts.service);
  return app;
}
