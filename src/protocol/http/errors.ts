/**
 * HTTP error pieces shared by every fastify route group (/v2, /v1, /admin) and the raw /v2 infer
 * route: fastify's own errors expressed in our catalogue, and the body-limit refusal.
 */
import type { FastifyError } from 'fastify';
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
