/** Maps any error to the Open Inference Protocol's error body `{"error": ...}` plus our stable `code`. */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { InferdError, toInferdError } from '../../errors.js';

/** Fastify's own errors (body parsing, limits) expressed in our catalogue. */
export function fromFastifyError(err: FastifyError): InferdError {
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return payloadTooLarge(err.message.match(/\d+/)?.[0] ?? 'the configured');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new InferdError('unsupported_media_type', 'unsupported Content-Type: send application/json');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new InferdError('invalid_json', `the request body is not valid JSON: ${err.message}`);
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new InferdError('invalid_request', err.message);
    default:
      if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
        return new InferdError('invalid_request', err.message);
      }
      return toInferdError(err);
  }
}

/** The request body is over the server's limit (413), in the words both HTTP paths use. */
export function payloadTooLarge(limit: number | string): InferdError {
  return new InferdError(
    'payload_too_large',
    `the request body is larger than the limit of ${limit} bytes (--max-body-bytes)`,
  );
}

/** Server-side failures are logged; refusals and client errors are answers, not incidents. */
export function isServerFault(e: InferdError): boolean {
  return (
    e.httpStatus >= 500 &&
    e.code !== 'queue_full' &&
    e.code !== 'model_unavailable' &&
    e.code !== 'server_draining'
  );
}

export function logServerFault(e: InferdError, log: Logger | FastifyRequest['log']): void {
  log.error({ err: e.cause ?? e, code: e.code }, e.message);
}

/** The JSON error body of every /v2 route, on both HTTP paths. */
export function errorBody(e: InferdError): string {
  return JSON.stringify({ error: e.message, code: e.code });
}

export function sendError(err: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const e = err instanceof InferdError ? err : fromFastifyError(err as FastifyError);
  if (isServerFault(e)) logServerFault(e, request.log);
  for (const [k, v] of Object.entries(e.headers)) void reply.header(k, v);
  return reply.code(e.httpStatus).type('application/json').send(errorBody(e));
}
