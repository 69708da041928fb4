/** Maps any error to the Open Inference Protocol's error body `{"error": ...}` plus our stable `code`. */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { InferdError } from '../../errors.js';
import { fromFastifyError } from '../http/errors.js';

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
