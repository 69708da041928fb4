/**
 * The v2 infer route (`POST /v2/models/{m}[/versions/{v}]/infer`), served on Node's HTTP server
 * ahead of fastify; every other route stays in fastify (app.ts hands over what this does not take).
 *
 * Why: at concurrency 64 on the spam model the event loop is the bottleneck, and fastify's
 * per-request machinery (routing, Request/Reply objects, hook runners, content-type parser, child
 * logger, reply serialisation) was a third of its time per request (cpu profile, 2-core bench
 * machine, see docs/benchmarks.md). The contract is fastify's, kept exactly: the same request id
 * rule and header, load shedding before the body is read, the body limit (413, from
 * Content-Length or while reading), Content-Length checking, the error body and status mapping,
 * the access-log line, and a closing connection while the server drains.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { InferdError, toInferdError } from '../../errors.js';
import type { InferenceService } from '../../service/inference-service.js';
import { logAccess } from './access-log.js';
import { clientGone } from '../http/client-gone.js';
import { payloadTooLarge } from '../http/errors.js';
import { errorBody, isServerFault, logServerFault } from './errors.js';
import { decodeInferBody, encodeInferBody } from './infer-body.js';
import type { InferLogFields } from './v2-routes.js';

export interface InferRouteOptions {
  service: InferenceService;
  logger: Logger;
  /** Largest accepted request body in bytes (413 beyond). */
  maxBodyBytes: number;
}

/** Takes the request (true) or leaves it to fastify (false). */
export type RawHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

const REQUEST_ID = /^[\w.:-]{1,128}$/;
/**
 * New ids are this process's random prefix and a counter: unique across replicas and restarts like
 * a UUID (64 random bits), at a fraction of randomUUID's cost on every request.
 */
const ID_PREFIX = randomBytes(8).toString('hex');
let idCounter = 0;

/** A client's x-request-id when it is sane, otherwise a new one. */
export function requestIdOf(headers: IncomingHttpHeaders): string {
  const given = headers['x-request-id'];
  if (typeof given === 'string' && REQUEST_ID.test(given)) return given;
  idCounter += 1;
  return `${ID_PREFIX}-${idCounter.toString(36)}`;
}

const decode = (segment: string): string => (segment.includes('%') ? decodeURIComponent(segment) : segment);

const PREFIX = '/v2/models/';
const SUFFIX = '/infer';

/**
 * Model and version named by an infer path (percent-decoded, as fastify decodes parameters), or
 * undefined when the path is not an infer path; malformed escapes are left to fastify's 400.
 */
export function parseInferPath(url: string): { model: string; version?: string } | undefined {
  if (!url.startsWith(PREFIX)) return undefined;
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  if (!path.endsWith(SUFFIX) || path.length <= PREFIX.length + SUFFIX.length) return undefined;
  const parts = path.slice(PREFIX.length, -SUFFIX.length).split('/');
  try {
    if (parts.length === 1) return { model: decode(parts[0]!) };
    if (parts.length === 3 && parts[0] && parts[1] === 'versions' && parts[2]) {
      return { model: decode(parts[0]), version: decode(parts[2]) };
    }
  } catch {
    return undefined;
  }
  return undefined;
}

export function inferRoute(opts: InferRouteOptions): RawHandler {
  const { service, logger, maxBodyBytes } = opts;

  /** Writes the whole response at once and the access-log line; a client that left gets nothing. */
  function finish(
    req: IncomingMessage,
    res: ServerResponse,
    reqId: string,
    started: number,
    fields: InferLogFields,
    status: number,
    headers: Record<string, string | number>,
    body: string | Uint8Array,
  ): void {
    if (service.isDraining) headers.connection = 'close';
    headers['x-request-id'] = reqId;
    headers['content-length'] = typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
    if (!res.destroyed) {
      res.writeHead(status, headers);
      res.end(body);
    }
    const entry = { reqId, method: req.method, url: req.url ?? '', status, ms: performance.now() - started };
    logAccess(logger, 'info', entry, fields);
  }

  function fail(
    req: IncomingMessage,
    res: ServerResponse,
    reqId: string,
    started: number,
    fields: InferLogFields,
    err: unknown,
  ): void {
    const e = toInferdError(err);
    // A child logger only for the rare line: refusals come by the thousand under overload.
    if (isServerFault(e)) logServerFault(e, logger.child({ reqId }));
    const headers: Record<string, string | number> = { 'content-type': 'application/json', ...e.headers };
    // An over-limit body is not read to its end: close rather than drain it.
    if (e.code === 'payload_too_large') headers.connection = 'close';
    finish(req, res, reqId, started, fields, e.httpStatus, headers, errorBody(e));
  }

  /** Load shedding before the body is read or parsed (see Scheduler.full): the refusal, if any. */
  function admit(
    target: { model: string; version?: string },
    fields: InferLogFields,
  ): InferdError | undefined {
    if (service.isDraining) return undefined; // infer() answers server_draining
    let mv;
    try {
      mv = service.router.resolve(target.model, target.version);
    } catch {
      return undefined; // unknown model or version: infer() reports it with the usual error
    }
    if (!mv.scheduler?.full) return undefined;
    mv.observer.failed('rejected', 0);
    fields.version = mv.version;
    return mv.scheduler.queueFullError();
  }

  async function run(
    req: IncomingMessage,
    res: ServerResponse,
    reqId: string,
    started: number,
    target: { model: string; version?: string },
    fields: InferLogFields,
    raw: Buffer,
  ): Promise<void> {
    const request = decodeInferBody(service, req.headers, raw, target.model, target.version);
    request.signal = clientGone(req.socket);
    const response = await service.infer(request, (t) => {
      fields.version = t.version;
      fields.queueMs = t.queueMs;
      fields.computeMs = t.computeMs;
    });
    const encoded = encodeInferBody(request, response);
    const headers: Record<string, string | number> = { 'content-type': encoded.contentType };
    if (encoded.headerLength !== undefined) headers['inference-header-content-length'] = encoded.headerLength;
    finish(req, res, reqId, started, fields, 200, headers, encoded.body);
  }

  return (req, res) => {
    if (req.method !== 'POST' || !req.url) return false;
    const target = parseInferPath(req.url);
    if (!target) return false;

    const started = performance.now();
    const reqId = requestIdOf(req.headers);
    const fields: InferLogFields = { model: target.model, version: target.version };
    const refused = admit(target, fields);
    // Node discards an unread body after the response, so the connection stays usable.
    if (refused) {
      fail(req, res, reqId, started, fields, refused);
      return true;
    }

    const declared = req.headers['content-length'];
    const expected = declared === undefined ? NaN : Number(declared);
    if (expected > maxBodyBytes) {
      fail(req, res, reqId, started, fields, payloadTooLarge(maxBodyBytes));
      return true;
    }
    const chunks: Buffer[] = [];
    let received = 0;
    const onData = (chunk: Buffer): void => {
      received += chunk.length;
      if (received > maxBodyBytes) {
        req.removeListener('data', onData);
        req.removeListener('end', onEnd);
        fail(req, res, reqId, started, fields, payloadTooLarge(maxBodyBytes));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      req.removeListener('data', onData);
      if (!Number.isNaN(expected) && received !== expected) {
        fail(
          req,
          res,
          reqId,
          started,
          fields,
          new InferdError('invalid_request', 'Request body size did not match Content-Length'),
        );
        return;
      }
      // Node hands each read its own buffer, so a single chunk is safe to keep without a copy.
      const raw = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received);
      run(req, res, reqId, started, target, fields, raw).catch((err: unknown) =>
        fail(req, res, reqId, started, fields, err),
      );
    };
    req.on('data', onData);
    req.on('end', onEnd);
    // A client that leaves mid-body has nobody to answer; its socket is already closing.
    req.on('error', () => req.removeListener('end', onEnd));
    return true;
  };
}
