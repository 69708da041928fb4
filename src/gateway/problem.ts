/**
 * RFC 9457 problem details for the customer API (/v1, /admin): `type`, `title`, `status`, `detail`,
 * `instance`, plus our stable `code` and the `request_id`, all from the one error catalogue. The
 * /v2 routes keep the Open Inference Protocol's `{"error","code"}` body instead.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { clip, MESSAGE_CHARS } from '../core/clip.js';
import { InferdError, isServerFault } from '../errors.js';
import { fromFastifyError } from '../protocol/http/errors.js';

/** Where each code is documented (docs/errors.md has one row per code, generated from the catalogue). */
const PROBLEM_BASE = 'https://inferd.dev/errors/';

interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  code: string;
  request_id: string;
}

function toProblem(e: InferdError, req: FastifyRequest): Problem {
  return {
    type: PROBLEM_BASE + e.code,
    title: e.title,
    status: e.httpStatus,
    detail: clip(e.message, MESSAGE_CHARS),
    // The path only: a query string could carry a secret the client should not have sent.
    instance: req.url.split('?')[0]!,
    code: e.code,
    request_id: req.id,
  };
}

export function sendProblem(err: unknown, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  const e = err instanceof InferdError ? err : fromFastifyError(err as FastifyError);
  if (isServerFault(e)) req.log.error({ err: e.cause ?? e, code: e.code }, e.message);
  for (const [k, v] of Object.entries(e.headers)) void reply.header(k, v);
  return reply
    .code(e.httpStatus)
    .type('application/problem+json')
    .send(JSON.stringify(toProblem(e, req)));
}
