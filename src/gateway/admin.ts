/**
 * The admin API under /admin: key management and usage export, protected by its own bearer token
 * (setting adminToken) and never by a customer key. Registered only when the token is set.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { InferdError } from '../errors.js';
import type { Store, UsageRecord } from './store/types.js';
import { KeyAdmin, publicKey } from './key-admin.js';
import { parseDuration } from './keys.js';
import { sendProblem } from './problem.js';
import { parseRange } from './usage-routes.js';

export interface AdminOptions {
  token: string;
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

/** Compares SHA-256 digests so the comparison takes the same time whatever the lengths. */
function sameToken(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

function jsonBody<T>(schema: z.ZodType<T>, raw: unknown): T {
  let v: unknown = {};
  if (raw instanceof Buffer && raw.length > 0) {
    try {
      v = JSON.parse(raw.toString('utf8'));
    } catch (err) {
      throw new InferdError('invalid_json', `the request body is not valid JSON: ${(err as Error).message}`);
    }
  }
  const res = schema.safeParse(v);
  if (!res.success) {
    throw new InferdError(
      'invalid_request',
      res.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
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

/** RFC 4180: quote fields holding a comma, quote or newline. */
function csvField(v: string | number): string {
  const s = typeof v === 'number' ? String(v) : v;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export async function registerAdminApi(app: FastifyInstance, opts: AdminOptions): Promise<void> {
  await app.register(
    async (admin) => {
      admin.setErrorHandler((err, req, reply) => sendProblem(err, req, reply));
      admin.addHook('onRequest', async (req) => {
        const m = /^Bearer +(\S+)$/i.exec(req.headers.authorization ?? '');
        if (!m)
          throw new InferdError('unauthenticated', 'send the admin token as Authorization: Bearer <token>');
        if (!sameToken(m[1]!, opts.token)) throw new InferdError('forbidden', 'not the admin token');
      });

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
      admin.get('/keys', async () => ({ keys: (await opts.admin.list()).map(publicKey) }));
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
            lines.push(
              CSV_COLUMNS.map((c) => csvField(c === 'time' ? new Date(r.time).toISOString() : r[c])).join(
                ',',
              ),
            );
          }
          return reply
            .type('text/csv; charset=utf-8')
            .header('content-disposition', 'attachment; filename="usage.csv"')
            .send(lines.join('\r\n') + '\r\n');
        }
        if (q.format !== undefined && q.format !== 'json') {
          throw new InferdError('invalid_request', `format must be csv or json`);
        }
        return { records: records.map((r) => ({ ...r, time: new Date(r.time).toISOString() })) };
      });
      admin.get('/usage/totals', async (req) => {
        const q = req.query as { from?: string; to?: string; key_id?: string };
        return { totals: await opts.store.usageTotals({ keyId: q.key_id, ...parseRange(q) }) };
      });
    },
    { prefix: '/admin' },
  );
}
