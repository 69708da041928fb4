/**
 * The admin API under /admin: key management and usage export, protected by its own bearer token
 * (setting adminToken) and never by a customer key: the access policy (category admin-api) checks
 * it in the app's onRequest hook, like every other admin-token route. Registered only when the
 * token is set.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { InferdError } from '../errors.js';
import { ENVELOPE_VALUES, parseJsonBody } from '../protocol/http/json-body.js';
import type { Store, UsageRecord } from './store/types.js';
import { KeyAdmin, publicKey } from './key-admin.js';
import { formatTime, parseDuration } from './keys.js';
import { sendProblem } from './problem.js';
import { parseRange } from './usage-routes.js';
import { MAX_LAST_USED_IDS } from './store/rows.js';

export interface AdminOptions {
  store: Store;
  admin: KeyAdmin;
}

const createBody = z.object({
  name: z.string().min(1),
  plan: z.string().optional(),
  owner: z.string().optional(),
  models: z.array(z.string().min(1)).optional(),
  /** e.g. "30d"; absent = never expires. */
  expires_in: z.string().optional(),
  environment: z.enum(['live', 'test']).optional(),
});
const rotateBody = z.object({ grace: z.string().default('24h') });

/** A small JSON body of the key routes (admin and /v1 account), validated by `schema`; {} when empty. */
export function jsonBody<T>(
  schema: z.ZodType<T>,
  raw: unknown,
  why = 'an admin request holds a few fields',
): T {
  // The one JSON body parser (sizes and depth scanned before JSON.parse, as for inference bodies).
  const v: unknown =
    raw instanceof Buffer && raw.length > 0 ? parseJsonBody(raw, { maxValues: ENVELOPE_VALUES, why }) : {};
  const res = schema.safeParse(v);
  if (!res.success) {
    throw new InferdError(
      'invalid_request',
      res.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; '),
    );
  }
  return res.data;
}

function duration(text: string): number {
  try {
    return parseDuration(text);
  } catch (err) {
    throw new InferdError('invalid_request', (err as Error).message);
  }
}

const CSV_COLUMNS: (keyof UsageRecord)[] = [
  'time',
  'keyId',
  'model',
  'version',
  'status',
  'units',
  'latencyMs',
];

/**
 * One CSV cell, after OWASP's CSV injection guidance: every cell is quoted (RFC 4180, quotes
 * doubled), and a text cell starting with = + - @ tab or carriage return gets a leading `'`, so a
 * spreadsheet shows it as text instead of running it as a formula (a model or version name such as
 * `=cmd|calc!A0` comes from a client). Numbers are ours and written as they are.
 */
function csvCell(v: string | number): string {
  const s = typeof v === 'number' ? String(v) : /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
  return `"${s.replace(/"/g, '""')}"`;
}

export async function registerAdminApi(app: FastifyInstance, opts: AdminOptions): Promise<void> {
  await app.register(
    async (admin) => {
      admin.setErrorHandler((err, req, reply) => sendProblem(err, req, reply));
      admin.post('/keys', async (req, reply) => {
        const b = jsonBody(createBody, req.body);
        const { key, record } = await opts.admin.create({
          name: b.name,
          plan: b.plan,
          owner: b.owner,
          models: b.models,
          environment: b.environment,
          expiresInMs: b.expires_in === undefined ? undefined : duration(b.expires_in),
        });
        return reply.code(201).send({ key, ...publicKey(record) });
      });
      admin.get('/keys', async () => {
        const keys = await opts.admin.list();
        const last = new Map<string, number>();
        for (let i = 0; i < keys.length; i += MAX_LAST_USED_IDS) {
          const chunk = await opts.store.lastUsed(keys.slice(i, i + MAX_LAST_USED_IDS).map((k) => k.id));
          for (const [id, t] of chunk) last.set(id, t);
        }
        return {
          keys: keys.map((k) => ({
            ...publicKey(k),
            last_used_at: last.has(k.id) ? formatTime(last.get(k.id)!) : null,
          })),
        };
      });
      admin.post('/keys/:id/revoke', async (req) =>
        publicKey(await opts.admin.revoke((req.params as { id: string }).id)),
      );
      admin.post('/keys/:id/rotate', async (req) => {
        const b = jsonBody(rotateBody, req.body);
        const r = await opts.admin.rotate((req.params as { id: string }).id, duration(b.grace));
        return { key: r.key, ...publicKey(r.record), old: publicKey(r.old) };
      });

      admin.get('/usage', async (req, reply) => {
        const q = req.query as { from?: string; to?: string; key_id?: string; format?: string };
        const range = parseRange(q);
        const records = await opts.store.usageRecords({ keyId: q.key_id, ...range });
        if (q.format === 'csv') {
          const lines = [CSV_COLUMNS.join(',')];
          for (const r of records) {
            lines.push(CSV_COLUMNS.map((c) => csvCell(c === 'time' ? formatTime(r.time) : r[c])).join(','));
          }
          return reply
            .type('text/csv; charset=utf-8')
            .header('content-disposition', 'attachment; filename="usage.csv"')
            .send(lines.join('\r\n') + '\r\n');
        }
        if (q.format !== undefined && q.format !== 'json') {
          throw new InferdError('invalid_request', `format must be csv or json`);
        }
        return { records: records.map((r) => ({ ...r, time: formatTime(r.time) })) };
      });
      admin.get('/usage/totals', async (req) => {
        const q = req.query as { from?: string; to?: string; key_id?: string };
        return { totals: await opts.store.usageTotals({ keyId: q.key_id, ...parseRange(q) }) };
      });
    },
    { prefix: '/admin' },
  );
}
