/** GET /v1/usage: the calling key's totals per UTC day and model, for a month or a date range. */
import type { FastifyInstance } from 'fastify';
import { InferdError } from '../errors.js';
import type { Store } from './store/types.js';
import { monthWindow } from './plans.js';

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** `from`/`to` as YYYY-MM-DD (to inclusive); default: the current UTC month. */
export function parseRange(
  q: { from?: unknown; to?: unknown },
  now = Date.now(),
): { from: number; to: number } {
  const m = monthWindow(now);
  const day = (v: unknown, name: string): number | undefined => {
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || !DAY.test(v) || Number.isNaN(Date.parse(`${v}T00:00:00Z`))) {
      throw new InferdError('invalid_request', `'${name}' must be a date YYYY-MM-DD`);
    }
    return Date.parse(`${v}T00:00:00Z`);
  };
  const from = day(q.from, 'from') ?? m.start;
  const toDay = day(q.to, 'to');
  const to = toDay === undefined ? m.end : toDay + 86_400_000;
  if (to <= from) throw new InferdError('invalid_request', `'to' must not be before 'from'`);
  return { from, to };
}

export function registerUsageRoutes(v1: FastifyInstance, store: Store | undefined): void {
  v1.get('/usage', async (req) => {
    if (!store || !req.apiKey) {
      throw new InferdError('unsupported', 'usage is recorded only when the gateway is on (--auth on)');
    }
    const range = parseRange(req.query as { from?: unknown; to?: unknown });
    const rows = await store.usageTotals({ keyId: req.apiKey.id, ...range });
    return {
      key_id: req.apiKey.id,
      plan: req.apiKey.plan,
      from: new Date(range.from).toISOString().slice(0, 10),
      to: new Date(range.to - 86_400_000).toISOString().slice(0, 10),
      total: {
        requests: rows.reduce((n, r) => n + r.requests, 0),
        units: rows.reduce((n, r) => n + r.units, 0),
      },
      days: rows.map((r) => ({
        day: r.day,
        model: r.model,
        requests: r.requests,
        units: r.units,
        errors: r.errors,
      })),
    };
  });
}
