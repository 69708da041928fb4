/**
 * Typed errors of the inferd SDK. Every server refusal carries the stable `code` of inferd's error
 * catalogue, the HTTP `status` and the server's `requestId` (quote it in support requests).
 */

export interface ProblemBody {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  instance?: string;
  code?: string;
  request_id?: string;
}

export class InferdApiError extends Error {
  readonly code: string;
  readonly status: number;
  readonly requestId: string | undefined;
  /** Seconds the server asked to wait (Retry-After), when it said so. */
  readonly retryAfter: number | undefined;

  constructor(status: number, body: ProblemBody, requestId: string | undefined, retryAfter?: number) {
    super(body.detail ?? body.title ?? `HTTP ${status}`);
    this.name = new.target.name;
    this.status = status;
    this.code = body.code ?? 'unknown';
    this.requestId = body.request_id ?? requestId;
    this.retryAfter = retryAfter;
  }
}

/** 401: missing, invalid, expired or revoked key. */
export class AuthenticationError extends InferdApiError {}
/** 403: the key may not call this model. */
export class PermissionDeniedError extends InferdApiError {}
/** 400/413/415: the request itself is wrong; retrying will not help. */
export class BadRequestError extends InferdApiError {}
/** 404: unknown model or version. */
export class NotFoundError extends InferdApiError {}
/** 429 rate_limited: slow down; retried automatically after Retry-After. */
export class RateLimitError extends InferdApiError {}
/** 429 quota_exceeded: the monthly quota is used up; never retried. */
export class QuotaExceededError extends InferdApiError {}
/** 5xx: a server-side failure; 503 is retried. */
export class ServerError extends InferdApiError {}

/** The server could not be reached at all. */
export class ConnectionError extends Error {
  readonly code = 'connection_error';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConnectionError';
  }
}

/** No complete answer within the client's timeoutMs (the request may still have run on the server). */
export class TimeoutError extends Error {
  readonly code = 'timeout';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TimeoutError';
  }
}

export function errorFor(
  status: number,
  body: ProblemBody,
  requestId?: string,
  retryAfter?: number,
): InferdApiError {
  const args = [status, body, requestId, retryAfter] as const;
  if (status === 401) return new AuthenticationError(...args);
  if (status === 403) return new PermissionDeniedError(...args);
  if (status === 404) return new NotFoundError(...args);
  if (status === 429)
    return body.code === 'quota_exceeded' ? new QuotaExceededError(...args) : new RateLimitError(...args);
  if (status >= 500) return new ServerError(...args);
  if (status >= 400) return new BadRequestError(...args);
  return new InferdApiError(...args);
}
