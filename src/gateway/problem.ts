/**
 * RFC 9457 problem details for the customer API (/v1, /admin): `type`, `title`, `status`, `detail`,
 * `instance`, plus our stable `code` and the `request_id`, all from the one error catalogue. The
 * /v2 routes keep the Open Inference Protocol's `{"error","code"}` body instead.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { InferdError } from '../errors.js';
import { fromFastifyError } from '../protocol/http/errors.js';

/** Where each code is documented (docs/errors.md has one heading per code). */
export const PROBLEM_BASE = 'https://inferd.dev/errors/';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  code: string;
  request_id: string;
}

export function toProblem(e: InferdError, req: FastifyRequest): Problem {
  return {
    type: PROBLEM_BASE + e.code,
    title: e.title,
    status: e.httpStatus,
    detail: e.message,
    // The path only: a query string could carry a secret the client should not have sent.
    instance: req.url.split('?')[0]!,
    code: e.code,
    request_id: req.id,
  };
}

export function sendProblem(err: unknown, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  const e = err instanceof InferdError ? err : fromFastifyError(err as FastifyError);
  if (e.httpStatus >= 500 && e.code !== 'queue_full' && e.code !== 'server_draining') {
    req.log.error({ err: e.cause ?? e, code: e.code }, e.message);
  }
  for (const [k, v] of Object.entries(e.headers)) void reply.header(k, v);
  return reply
    .code(e.httpStatus)
    .type('application/problem+json')
    .send(JSON.stringify(toProblem(e, req)));
}
