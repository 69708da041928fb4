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
 * the access-log line, and a closing connection while the server drains. Bodies may come gzip or
 * deflate compressed (Content-Encoding, decompressed within the same limit) and successful answers
 * go compressed to a client that accepts it (http/content-encoding.ts), as Triton's HTTP server.
 *
 * With API keys required on /v2 inference (access policy, src/gateway/access-policy.ts), the
 * customer gate runs here too, before the body is read: key, scope, plan limits (rate-limit headers
 * on every answer), the plan's payload limit on the bytes actually read, and the usage record
 * committed before the answer is written, as on /v1.
 *
 * Other POST endpoints that run one model's inference (SageMaker's /invocations, the Vertex AI
 * predict route: src/protocol/platforms/) are `InferEndpoint`s served by this same machinery, so
 * they share every one of those guarantees and differ only in how they read and write a body.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { clip } from '../../core/clip.js';
import { InferdError, isServerFault, toInferdError } from '../../errors.js';
import type { CustomerGate, GateCall } from '../../gateway/customer-gate.js';
import type { Admitted, InferenceService, InferTiming } from '../../service/inference-service.js';
import { logAccess } from './access-log.js';
import { clientGone } from '../http/client-gone.js';
import { decodeRequestBody, encodeResponseBody, responseCoding } from '../http/content-encoding.js';
import { payloadTooLarge } from '../http/errors.js';
import { bodyBufferFull, type ConnectionGuard } from './connection-guard.js';
import { errorBody, logServerFault } from './errors.js';
import { decodeInferBody, encodeInferBody } from './infer-body.js';
import { prepare } from '../shm-tensors.js';
import type { InferLogFields } from './v2-routes.js';

export interface InferRouteOptions {
  service: InferenceService;
  logger: Logger;
  /** Largest accepted request body in bytes (413 beyond). */
  maxBodyBytes: number;
  /** Customer keys, limits and metering, when the access policy requires keys; undefined = open. */
  gate?: CustomerGate;
  /** The connection cap and the body budget, shared with the fastify routes. */
  guard: ConnectionGuard;
  /** More POST endpoints served like the v2 infer route, tried before it (platforms/). */
  endpoints?: readonly InferEndpoint[];
}

/** The model (and version or alias) a request is for. */
export interface InferTarget {
  model: string;
  version?: string;
}

/** One request's body and what the endpoint needs to run it. */
export interface EndpointCall {
  service: InferenceService;
  /** The model version looked up (and shed) before the body was read: decode with it, pass it to infer. */
  admitted: Admitted;
  headers: IncomingHttpHeaders;
  /** The whole body, within the server's and the plan's limits. */
  body: Buffer;
  target: InferTarget;
  /** Aborts when the client goes away. */
  signal: AbortSignal;
  /** Gives the access-log line its version and times (call it from service.infer's timing). */
  timing: (t: InferTiming) => void;
  /** The request's id (x-request-id): picks the shadow share of a rollout. */
  requestId: string;
}

export interface EndpointAnswer {
  status?: number;
  headers: Record<string, string | number>;
  body: string | Uint8Array;
}

/**
 * A POST endpoint that runs inference on one model. `match` looks at the request line and headers
 * only (the body is not read yet): undefined = not this endpoint; a target; or a refusal (a
 * catalogue error), answered after the customer gate like any other refusal.
 */
export interface InferEndpoint {
  match(req: IncomingMessage): InferTarget | InferdError | undefined;
  handle(call: EndpointCall): Promise<EndpointAnswer>;
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

/** One request on this route, from its first byte to its answer. */
interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  reqId: string;
  started: number;
  target: InferTarget;
  endpoint: InferEndpoint;
  /** A refusal known from the request line (no model chosen): answered after the gate. */
  refusal?: InferdError;
  fields: InferLogFields;
  /** The customer gate's call, when keys are required. */
  call?: GateCall;
  /** True once the whole body is in: from then on the answer always comes through finish(). */
  working?: boolean;
}

/** POST /v2/models/{m}[/versions/{v}]/infer: JSON, binary tensors or a raw binary body. */
const v2Endpoint: InferEndpoint = {
  match: (req) => parseInferPath(req.url ?? ''),
  async handle({ service, admitted, headers, body, target, signal, timing, requestId }) {
    const request = decodeInferBody(admitted, headers, body, target.model, target.version);
    request.signal = signal;
    const shm = prepare(service.sharedMemory, request, service.maxSharedMemoryReadBytes);
    const response = await service.infer(request, { admitted, timing, requestKey: requestId });
    shm.writeOutputs(response);
    const encoded = encodeInferBody(request, response, service.maxResponseBytes);
    // Which version answered: during a canary the client cannot tell otherwise without parsing.
    const out: Record<string, string | number> = {
      'content-type': encoded.contentType,
      'x-model-version': response.modelVersion ?? admitted.version,
    };
    if (encoded.headerLength !== undefined) out['inference-header-content-length'] = encoded.headerLength;
    return { headers: out, body: encoded.body };
  },
};

export function inferRoute(opts: InferRouteOptions): RawHandler {
  const { service, logger, maxBodyBytes, gate, guard } = opts;
  const endpoints = [...(opts.endpoints ?? []), v2Endpoint];
  const { budget } = guard;

  /** Writes the whole response at once and the access-log line; a client that left gets nothing. */
  function write(
    x: Exchange,
    status: number,
    headers: Record<string, string | number>,
    body: string | Uint8Array,
  ): void {
    const { req, res } = x;
    if (service.isDraining) headers.connection = 'close';
    headers['x-request-id'] = x.reqId;
    headers['content-length'] = typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
    if (!res.destroyed) {
      res.writeHead(status, headers);
      res.end(body);
    }
    const entry = {
      reqId: x.reqId,
      method: req.method,
      url: req.url ?? '',
      status,
      ms: performance.now() - x.started,
    };
    logAccess(logger, 'info', entry, x.fields);
  }

  /** The answer: with a gate call, the usage record is durable before it is written (metering.ts). */
  function finish(
    x: Exchange,
    status: number,
    headers: Record<string, string | number>,
    body: string | Uint8Array,
  ): void {
    const call = x.call;
    if (!call || !gate) {
      write(x, status, headers, body);
      return;
    }
    const outcome = {
      model: x.target.model,
      version: x.fields.version ?? '',
      status,
      latencyMs: performance.now() - x.started,
    };
    gate.finish(call, outcome).then(
      () => write(x, status, { ...call.headers, ...headers }, body),
      (err: unknown) => {
        const e = toInferdError(err);
        logServerFault(e, logger.child({ reqId: x.reqId }));
        write(x, e.httpStatus, { ...call.headers, 'content-type': 'application/json' }, errorBody(e));
      },
    );
  }

  function fail(x: Exchange, err: unknown): void {
    const e = toInferdError(err);
    // A child logger only for the rare line: refusals come by the thousand under overload.
    if (isServerFault(e)) logServerFault(e, logger.child({ reqId: x.reqId }));
    const headers: Record<string, string | number> = { 'content-type': 'application/json', ...e.headers };
    // An over-limit body is not read to its end: close rather than drain it.
    if (e.code === 'payload_too_large') headers.connection = 'close';
    finish(x, e.httpStatus, headers, errorBody(e));
  }

  /**
   * The one lookup of the model version, and load shedding (see Scheduler.full), before the body is
   * read or parsed: the refusal, if any.
   */
  function admit(x: Exchange): Admitted | InferdError {
    let admitted: Admitted;
    try {
      // Unknown model or version, not ready, or draining: refused before the body is read.
      // A canary splits by the API key when there is one (sticky per customer), else by request id.
      admitted = service.admit(x.target.model, x.target.version, x.call?.key?.id ?? x.reqId);
    } catch (err) {
      return toInferdError(err);
    }
    x.fields.version = admitted.version;
    return service.shed(admitted) ?? admitted;
  }

  /**
   * Decompresses the body (within the same limit as the bytes read), runs the endpoint, and
   * compresses a successful answer when the client accepts it. Error answers stay uncompressed:
   * Triton sends them so, and tritonclient reads them without decompressing.
   */
  async function run(
    x: Exchange,
    raw: Buffer,
    admitted: Admitted,
    limit: number,
    tooLarge: () => InferdError,
  ): Promise<void> {
    const { req, fields } = x;
    const body = await decodeRequestBody(req.headers['content-encoding'], raw, limit, tooLarge);
    const answer = await x.endpoint.handle({
      service,
      admitted,
      headers: req.headers,
      body,
      target: x.target,
      signal: clientGone(req.socket),
      requestId: x.reqId,
      timing: (t) => {
        fields.version = t.version;
        fields.queueMs = t.queueMs;
        fields.computeMs = t.computeMs;
      },
    });
    const status = answer.status ?? 200;
    const coding = status < 300 ? responseCoding(req.headers['accept-encoding']) : undefined;
    if (coding) {
      answer.body = await encodeResponseBody(coding, answer.body);
      answer.headers['content-encoding'] = coding;
      answer.headers.vary = 'accept-encoding';
    }
    finish(x, status, answer.headers, answer.body);
  }

  /**
   * Sheds, then reads the body up to `limit` bytes (413 from `tooLarge` beyond, from Content-Length
   * or while reading) and runs the request.
   */
  function receive(x: Exchange, limit: number, tooLarge: () => InferdError): void {
    const { req } = x;
    const admitted = x.refusal ?? admit(x);
    // Node discards an unread body after the response, so the connection stays usable.
    if (admitted instanceof InferdError) {
      fail(x, admitted);
      return;
    }

    const declared = req.headers['content-length'];
    const expected = declared === undefined ? NaN : Number(declared);
    if (expected > limit) {
      fail(x, tooLarge());
      return;
    }
    // The body budget: a declared length is taken whole before reading (nothing is sent in vain),
    // a chunked body chunk by chunk; all of it is given back when the response closes.
    const declaredLength = !Number.isNaN(expected);
    if (declaredLength && !budget.take(x.res, expected)) {
      fail(x, bodyBufferFull(budget.limitBytes));
      return;
    }
    const chunks: Buffer[] = [];
    let received = 0;
    const stop = (e: InferdError): void => {
      req.removeListener('data', onData);
      req.removeListener('end', onEnd);
      fail(x, e);
    };
    const onData = (chunk: Buffer): void => {
      received += chunk.length;
      if (received > limit) {
        stop(tooLarge());
        return;
      }
      if (!declaredLength && !budget.take(x.res, chunk.length)) {
        stop(bodyBufferFull(budget.limitBytes));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      req.removeListener('data', onData);
      x.working = true;
      if (!Number.isNaN(expected) && received !== expected) {
        fail(x, new InferdError('invalid_request', 'Request body size did not match Content-Length'));
        return;
      }
      // Node hands each read its own buffer, so a single chunk is safe to keep without a copy.
      const raw = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received);
      run(x, raw, admitted, limit, tooLarge).catch((err: unknown) => fail(x, err));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    // A client that leaves mid-body has nobody to answer; its socket is already closing.
    req.on('error', () => req.removeListener('end', onEnd));
  }

  const serverTooLarge = (): InferdError => payloadTooLarge(maxBodyBytes);

  /** The gate first (key, scope, limits), then the request within the plan's payload limit. */
  function gated(x: Exchange, g: CustomerGate): void {
    const { req, res } = x;
    const call = g.call();
    x.call = call;
    const url = req.url ?? '';
    const q = url.indexOf('?');
    const declared = Number(req.headers['content-length']);
    g.begin(call, {
      authorization: req.headers.authorization,
      queryNames: q < 0 ? undefined : [...new URLSearchParams(url.slice(q + 1)).keys()],
      model: x.refusal ? undefined : x.target.model,
      declaredBytes: Number.isNaN(declared) ? undefined : declared,
    }).then(
      () => {
        const plan = g.maxBodyBytes(call) ?? maxBodyBytes;
        if (plan < maxBodyBytes) receive(x, plan, () => g.tooLarge(call));
        else receive(x, maxBodyBytes, serverTooLarge);
      },
      (err: unknown) => fail(x, err),
    );
    // A client that leaves before its body is in gets no answer: free its slot (not metered, as
    // on /v1). Once the body is in, the answer path always settles the call.
    res.once('close', () => {
      if (!x.working) void g.abandon(call);
    });
  }

  return (req, res) => {
    if (req.method !== 'POST' || !req.url) return false;
    let endpoint: InferEndpoint | undefined;
    let matched: InferTarget | InferdError | undefined;
    for (const e of endpoints) {
      matched = e.match(req);
      if (matched) {
        endpoint = e;
        break;
      }
    }
    if (!endpoint || !matched) return false;
    const refusal = matched instanceof InferdError ? matched : undefined;
    const target = refusal ? { model: '' } : (matched as InferTarget);

    const x: Exchange = {
      req,
      res,
      reqId: requestIdOf(req.headers),
      started: performance.now(),
      target,
      endpoint,
      refusal,
      // The log line carries the names bounded (core/clip.ts); the request keeps them whole.
      fields: {
        model: refusal ? undefined : clip(target.model),
        version: target.version === undefined ? undefined : clip(target.version),
      },
    };
    const refused = guard.connectionRefusal(req);
    if (refused) fail(x, refused);
    else if (gate) gated(x, gate);
    else receive(x, maxBodyBytes, serverTooLarge);
    return true;
  };
}
