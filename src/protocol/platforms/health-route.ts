/**
 * Vertex AI's health route ($AIP_HEALTH_ROUTE): readiness, as GET /v2/health/ready answers it (200
 * when ready, 503 while loading or draining, empty body). Served on the raw HTTP server like the
 * infer route, because Vertex chooses the path at deploy time (by default
 * `/v1/endpoints/{endpoint}/deployedModels/{id}`) and it may hold characters fastify's route syntax
 * reads as parameters (`:`). Open like every health route (access policy: category `health`); it
 * is answered even beyond the connection cap, as probes are (app.ts QUIET_ROUTES).
 */
import type { Logger } from 'pino';
import type { InferenceService } from '../../service/inference-service.js';
import { logAccess } from '../rest/access-log.js';
import { requestIdOf, type RawHandler } from '../rest/infer-route.js';

export function healthRoute(path: string, service: InferenceService, logger: Logger): RawHandler {
  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const url = req.url ?? '';
    const q = url.indexOf('?');
    if ((q < 0 ? url : url.slice(0, q)) !== path) return false;
    const started = performance.now();
    const reqId = requestIdOf(req.headers);
    const status = service.ready() ? 200 : 503;
    const headers: Record<string, string | number> = { 'x-request-id': reqId, 'content-length': 0 };
    if (service.isDraining) headers.connection = 'close';
    res.writeHead(status, headers);
    res.end();
    logAccess(logger, 'debug', { reqId, method: req.method, url, status, ms: performance.now() - started });
    return true;
  };
}
