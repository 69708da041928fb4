/**
 * HTTP error pieces shared by every fastify route group (/v2, /v1, /admin) and the raw /v2 infer
 * route: fastify's own errors expressed in our catalogue, the body-limit refusal, and the error
 * shape of each route group for errors raised before routing.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { clip } from '../../core/clip.js';
import { InferdError, toInferdError } from '../../errors.js';

/** Fastify's own errors (body parsing, limits, routing) expressed in our catalogue. */
export function fromFastifyError(err: FastifyError): InferdError {
  switch (err.code) {
    case 'FST_ERR_BAD_URL':
      return new InferdError(
        'invalid_request',
        'the URL path holds a malformed percent-escape (such as %zz)',
      );
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new InferdError('invalid_request', 'a segment of the URL path is longer than 100 characters');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return payloadTooLarge();
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new InferdError('unsupported_media_type', 'unsupported Content-Type: send application/json');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new InferdError('invalid_json', `the request body is not valid JSON: ${err.message}`);
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new InferdError('invalid_request', err.message);
    default:
      if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
        return new InferdError('invalid_request', clip(err.message, 512));
      }
      return toInferdError(err);
  }
}

/** The request body is over the server's limit (413), in the words both HTTP paths use. */
export function payloadTooLarge(limit?: number): InferdError {
  const of = limit === undefined ? "the server's limit" : `the limit of ${limit} bytes`;
  return new InferdError('payload_too_large', `the request body is larger than ${of} (--max-body-bytes)`);
}

export type ErrorSender = (err: unknown, req: FastifyRequest, reply: FastifyReply) => FastifyReply;

/** Error bodies by path prefix, for errors raised before a route (and its error handler) is known. */
const SHAPES = new WeakMap<FastifyInstance, Array<{ prefix: string; send: ErrorSender }>>();

/**
 * Route groups whose errors have another shape (the gateway: problem+json under /v1 and /admin)
 * register it here, so that errors fastify raises before routing (a malformed URL) keep it.
 */
export function registerErrorShape(app: FastifyInstance, prefix: string, send: ErrorSender): void {
  const list = SHAPES.get(app) ?? [];
  list.push({ prefix, send });
  SHAPES.set(app, list);
}

/** The error sender registered for a URL's prefix, else `fallback`. */
export function errorSenderFor(app: FastifyInstance, url: string, fallback: ErrorSender): ErrorSender {
  return SHAPES.get(app)?.find((s) => url.startsWith(s.prefix))?.send ?? fallback;
}
