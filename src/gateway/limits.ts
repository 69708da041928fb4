/**
 * rateLimit(): per key, a token bucket (requests per minute with a burst), a cap on concurrent
 * requests, a monthly quota in units, and the plan's payload limit. Transport-neutral: the answer's
 * rate-limit headers come back in `Admission.headers` (and on refusals in the error's headers), the
 * IETF ones (draft-ietf-httpapi-ratelimit-headers-11: a `RateLimit-Policy` and a `RateLimit` list
 * of items with q/w and r/t parameters) and OpenAI-style x-ratelimit-* ones; /v1, /v2 REST and gRPC
 * (as trailing metadata) all send them.
 */
import { InferdError } from '../errors.js';
import type { Limiter, RateDecision } from './limiter/types.js';
import type { ApiKeyRecord, Store } from './store/types.js';
import { modelWeight, monthWindow, type Plan, type PlanSet } from './plans.js';

export interface LimitOptions {
  limiter: Limiter;
  plans: PlanSet;
  store: Store;
  now?: () => number;
}

/** What a request holds after passing the limits; `done` must run exactly once. */
export interface Admission {
  /** Units charged against the monthly quota (0 when the call names no model). */
  units: number;
  /** The plan's body limit, checked again on the bytes actually read. */
  maxPayloadBytes: number;
  /** Rate-limit headers for the answer (lower-case names). */
  headers: Record<string, string>;
  /** Releases the concurrency slot; refunds the units when the call failed. */
  done(failed: boolean): Promise<void>;
}

/** Slot lifetime bound: longer than any request may run, so a crashed replica's slots free up. */
const SLOT_TTL_MS = 10 * 60_000;

function planOf(plans: PlanSet, key: ApiKeyRecord): Plan {
  const p = plans.plans[key.plan];
  if (!p)
    throw new InferdError(
      'forbidden',
      `API key ${key.id} is on plan '${key.plan}', which this server does not define`,
    );
  return p;
}

/** The rate-limit headers of a decision (lower-case names). */
function rateLimitHeaders(plan: Plan, d: RateDecision): Record<string, string> {
  const resetS = Math.ceil(d.resetMs / 1000);
  return {
    'ratelimit-policy': `"default";q=${plan.requestsPerMinute};w=60`,
    ratelimit: `"default";r=${d.remaining};t=${resetS}`,
    'x-ratelimit-limit-requests': String(plan.requestsPerMinute),
    'x-ratelimit-remaining-requests': String(d.remaining),
    'x-ratelimit-reset-requests': `${resetS}s`,
  };
}

export function rateLimit(opts: LimitOptions) {
  const now = opts.now ?? Date.now;
  return async function admit(
    key: ApiKeyRecord,
    model: string | undefined,
    bodyBytes: number | undefined,
  ): Promise<Admission> {
    const plan = planOf(opts.plans, key);
    if (bodyBytes !== undefined && bodyBytes > plan.maxPayloadBytes) {
      throw new InferdError(
        'payload_too_large',
        `the request body (${bodyBytes} bytes) is larger than plan ${key.plan}'s limit of ${plan.maxPayloadBytes} bytes`,
      );
    }
    // Account calls (/v1/usage) have their own bucket so that checking usage never eats into
    // the allowance for model calls, nor the reverse.
    const d = await opts.limiter.take(`${model === undefined ? 'acct' : 'rpm'}:${key.id}`, {
      capacity: plan.burst,
      refillPerMs: plan.requestsPerMinute / 60_000,
    });
    const headers = rateLimitHeaders(plan, d);
    if (!d.allowed) {
      throw new InferdError(
        'rate_limited',
        `rate limit of plan ${key.plan} reached (${plan.requestsPerMinute} requests per minute, burst ${plan.burst}); retry after the Retry-After delay`,
        { headers: { ...headers, 'retry-after': String(Math.max(1, Math.ceil(d.retryAfterMs / 1000))) } },
      );
    }
    const units = model === undefined ? 0 : modelWeight(opts.plans, model);
    const month = monthWindow(now());
    const quotaKey = `quota:${key.id}:${month.id}`;
    if (units > 0 && plan.monthlyQuotaUnits !== null) {
      const q = await opts.limiter.consume(quotaKey, units, plan.monthlyQuotaUnits, month.end, () =>
        opts.store.unitsUsed(key.id, month.start, month.end),
      );
      if (!q.allowed) {
        throw new InferdError(
          'quota_exceeded',
          `monthly quota of plan ${key.plan} used up (${q.used} of ${plan.monthlyQuotaUnits} units); it resets on ${new Date(month.end).toISOString()}`,
          { headers: { ...headers, 'x-should-retry': 'false' } },
        );
      }
    }
    const charged = units > 0 && plan.monthlyQuotaUnits !== null;
    const slot = `conc:${key.id}`;
    if (!(await opts.limiter.acquire(slot, plan.concurrentRequests, SLOT_TTL_MS))) {
      if (charged) await opts.limiter.refund(quotaKey, units);
      throw new InferdError(
        'rate_limited',
        `plan ${key.plan} allows ${plan.concurrentRequests} concurrent requests per key`,
        { headers: { ...headers, 'retry-after': '1' } },
      );
    }
    let finished = false;
    return {
      units,
      maxPayloadBytes: plan.maxPayloadBytes,
      headers,
      async done(failed) {
        if (finished) return;
        finished = true;
        await opts.limiter.release(slot);
        if (failed && charged) await opts.limiter.refund(quotaKey, units);
      },
    };
  };
}

export type Admit = ReturnType<typeof rateLimit>;
