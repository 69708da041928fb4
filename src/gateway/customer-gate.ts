/**
 * The customer gate: API key → scope → plan limits (payload, rate, quota, concurrency) → usage
 * record, the same for every transport that serves a customer-key category (access-policy.ts):
 * /v1 (fastify hooks), /v2 REST inference (the raw route) and gRPC ModelInfer / ModelStreamInfer
 * (per message). Each transport keeps its own error body; the refusals and their codes are these.
 *
 * Per call: `begin` (throws on refusal), the work, then `finish` exactly once with the answer's
 * status, before the answer is sent: the usage record is durable when it resolves (metering.ts).
 * A call that ends without an answer (client gone) calls `abandon` to free its slot.
 */
import { InferdError } from '../errors.js';
import type { ApiKeyRecord } from './store/types.js';
import { requireScope, type Authenticate, type Credentials } from './auth.js';
import type { Admission, Admit } from './limits.js';
import type { UsageMeter } from './metering.js';

/**
 * Longest model name or version stored in a usage record. Names of models that exist are folder
 * names (at most 255 bytes on common file systems); a version comes from the URL for a model that
 * exists but may be anything, so it is cut.
 */
const USAGE_NAME_MAX_CHARS = 255;

/** One call through the gate; transports hold it from `begin` to `finish`. */
export class GateCall {
  /** Set once the key is authenticated (even when a limit then refuses the call). */
  key?: ApiKeyRecord;
  admission?: Admission;
  /** Rate-limit headers for the answer, success or error (empty until the limits ran). */
  headers: Record<string, string> = {};
  settled = false;
}

export interface GateRequest extends Credentials {
  /** The model the call names; undefined for account calls (/v1/usage). */
  model: string | undefined;
  /** Body size known before reading it (Content-Length, gRPC message size). */
  declaredBytes?: number;
}

export interface GateOutcome {
  model: string | undefined;
  /** Resolved version when known, else the requested one, else ''. */
  version: string;
  /** HTTP status of the answer (for gRPC: the HTTP status of its error code, 200 when OK). */
  status: number;
  latencyMs: number;
}

export interface GateOptions {
  authenticate: Authenticate;
  admit: Admit;
  meter: UsageMeter;
  /** True when the model exists in the repository (loaded or not): only those calls are metered. */
  modelExists: (name: string) => boolean;
  now?: () => number;
}

export class CustomerGate {
  constructor(private readonly opts: GateOptions) {}

  call(): GateCall {
    return new GateCall();
  }

  /** Authenticates and admits the call; on refusal throws, with `call.key` set if it got that far. */
  async begin(call: GateCall, r: GateRequest): Promise<void> {
    const key = await this.opts.authenticate(r);
    call.key = key;
    if (r.model !== undefined) requireScope(key, r.model);
    try {
      call.admission = await this.opts.admit(key, r.model, r.declaredBytes);
      call.headers = call.admission.headers;
      if (call.settled) {
        // Abandoned while the limits ran: give the slot back at once.
        await call.admission.done(true);
        throw new InferdError('canceled', 'the client went away');
      }
    } catch (err) {
      if (err instanceof InferdError) call.headers = pickRateLimit(err.headers);
      throw err;
    }
  }

  /** The plan's body limit for this call, or undefined before admission. */
  maxBodyBytes(call: GateCall): number | undefined {
    return call.admission?.maxPayloadBytes;
  }

  /** 413 when `bytes` actually read exceed the plan's limit. */
  checkBytes(call: GateCall, bytes: number): void {
    const max = call.admission?.maxPayloadBytes;
    if (max !== undefined && bytes > max) throw this.tooLarge(call, bytes);
  }

  /** The plan's payload refusal; `bytes` when the whole body was counted. */
  tooLarge(call: GateCall, bytes?: number): InferdError {
    const plan = call.key?.plan ?? '?';
    const max = call.admission?.maxPayloadBytes ?? 0;
    const size = bytes === undefined ? 'the request body' : `the request body (${bytes} bytes)`;
    return new InferdError(
      'payload_too_large',
      `${size} is larger than plan ${plan}'s limit of ${max} bytes`,
      {
        headers: { ...call.headers },
      },
    );
  }

  /**
   * Records the call (when authenticated and naming a model that exists) and frees its slot. The
   * record is durable when this resolves; it rejects when the store write failed.
   */
  async finish(call: GateCall, o: GateOutcome): Promise<void> {
    if (call.settled) return;
    call.settled = true;
    const failed = o.status >= 400;
    try {
      if (call.key && o.model !== undefined && this.opts.modelExists(o.model)) {
        await this.opts.meter.record({
          keyId: call.key.id,
          model: o.model.slice(0, USAGE_NAME_MAX_CHARS),
          version: o.version.slice(0, USAGE_NAME_MAX_CHARS),
          status: o.status,
          units: failed ? 0 : (call.admission?.units ?? 0),
          latencyMs: Math.round(o.latencyMs * 1000) / 1000,
          time: (this.opts.now ?? Date.now)(),
        });
      }
    } finally {
      await call.admission?.done(failed);
    }
  }

  /** Frees the slot of a call that ends without an answer (the client left); not metered. */
  async abandon(call: GateCall): Promise<void> {
    if (call.settled) return;
    call.settled = true;
    await call.admission?.done(true);
  }
}

const RATE_LIMIT_HEADERS = [
  'ratelimit-policy',
  'ratelimit',
  'x-ratelimit-limit-requests',
  'x-ratelimit-remaining-requests',
  'x-ratelimit-reset-requests',
];

function pickRateLimit(h: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of RATE_LIMIT_HEADERS) if (h[k] !== undefined) out[k] = h[k];
  return out;
}
