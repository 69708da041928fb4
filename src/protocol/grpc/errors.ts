/**
 * InferdError → gRPC status. The status code comes from the one catalogue (src/errors.ts), the
 * details carry the actionable message, and trailing metadata `inferd-error-code` carries our
 * stable code (plus any extra headers the error asks for, e.g. retry-after) so that clients can
 * branch without parsing text.
 */
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { InferdError, toInferdError } from '../../errors.js';

export const ERROR_CODE_KEY = 'inferd-error-code';

/** Errors the operator should hear about (not client mistakes or expected back-pressure). */
function isServerFault(e: InferdError): boolean {
  return (
    e.httpStatus >= 500 &&
    !['queue_full', 'model_unavailable', 'server_draining', 'deadline_exceeded'].includes(e.code)
  );
}

/** `extra`: more trailing metadata, e.g. the rate-limit headers of a call the gate admitted. */
export function toServiceError(
  err: unknown,
  logger?: Logger,
  extra?: Record<string, string>,
): Partial<grpc.StatusObject> {
  const e = toInferdError(err);
  if (logger && isServerFault(e)) logger.error({ err: e.cause ?? e, code: e.code }, e.message);
  const metadata = new grpc.Metadata();
  metadata.set(ERROR_CODE_KEY, e.code);
  for (const [k, v] of Object.entries({ ...extra, ...e.headers })) {
    // Connection-specific headers are HTTP/1 only (RFC 9113 §8.2.2): never in gRPC metadata.
    if (k !== 'connection') metadata.set(k, v);
  }
  return { code: e.grpcStatus as grpc.status, details: e.message, metadata };
}
