/**
 * Findings 2 (access control on /v2 and gRPC), 9 (key expiry and name bounds) and 11 (CSV formula
 * injection, metering of models that do not exist). The attack server runs with auth on and an
 * admin token; a case that changed state on a vulnerable build puts it back with the admin token.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Inferd } from '../lib/inferd.js';
import { keysCli } from '../lib/keys.js';
import { addRequest, json, Tally, type CaseContext, type CorpusCase } from './case.js';

const DENIED_HTTP = [401, 403];
const DENIED_CODES = ['unauthenticated', 'forbidden', 'invalid_api_key'];
const DENIED_GRPC = [16, 7]; // UNAUTHENTICATED, PERMISSION_DENIED

async function stillReady(ctx: CaseContext, t: Tally, model: string): Promise<void> {
  const r = await ctx.http('GET', `/v2/models/${model}/ready`);
  if (r.status !== 200) {
    t.problem('state changed without the admin token');
    await ctx.http('POST', `/v2/repository/models/${model}/load`, { as: 'admin' });
  }
}

/** Addresses listening on `port` (from /proc/net/tcp and tcp6), as hex strings. */
function listeners(port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const out: string[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 4 || cols[3] !== '0A') continue; // LISTEN
      const [addr, p] = cols[1]!.split(':');
      if (p === hexPort) out.push(addr!);
    }
  }
  return out;
}

/** 127.0.0.0/8 (little-endian hex in /proc/net/tcp) or ::1. */
const isLoopback = (hex: string): boolean =>
  hex.length === 8 ? hex.endsWith('7F') : hex === '00000000000000000000000001000000';

export const ACCESS_CASES: CorpusCase[] = [
  {
    id: 'f2-rest-unload-no-token',
    finding: '2',
    title: 'POST /v2/repository/models/add/unload without a token → 401/403; the model stays READY',
    async run(ctx) {
      const t = new Tally([ctx.repo]);
      t.http(
        await ctx.http('POST', '/v2/repository/models/add/unload', { as: 'none' }),
        DENIED_HTTP,
        DENIED_CODES,
      );
      await stillReady(ctx, t, 'add');
      return t;
    },
  },
  {
    id: 'f2-rest-unload-customer-key',
    finding: '2',
    title: 'The same with a customer key (not the admin token) → 401/403; the model stays READY',
    async run(ctx) {
      const t = new Tally([ctx.repo]);
      t.http(
        await ctx.http('POST', '/v2/repository/models/add/unload', { as: 'key' }),
        DENIED_HTTP,
        DENIED_CODES,
      );
      await stillReady(ctx, t, 'add');
      return t;
    },
  },
  {
    id: 'f2-rest-load-no-token',
    finding: '2',
    title: 'POST /v2/repository/models/add/load without a token → 401/403',
    async run(ctx) {
      const t = new Tally([ctx.repo]);
      t.http(
        await ctx.http('POST', '/v2/repository/models/add/load', { as: 'none' }),
        DENIED_HTTP,
        DENIED_CODES,
      );
      return t;
    },
  },
  {
    id: 'f2-rest-index-no-token',
    finding: '2',
    title: 'POST /v2/repository/index without a token → 401/403 (the repository API is restricted)',
    async run(ctx) {
      const t = new Tally([ctx.repo]);
      t.http(await ctx.http('POST', '/v2/repository/index', { as: 'none' }), DENIED_HTTP, DENIED_CODES);
      return t;
    },
  },
  {
    id: 'f2-grpc-unload-no-token',
    finding: '2',
    title:
      'gRPC RepositoryModelUnload without a token → UNAUTHENTICATED/PERMISSION_DENIED; the model stays READY',
    async run(ctx) {
      const t = new Tally([ctx.repo]);
      t.grpc(await ctx.grpc('RepositoryModelUnload', { model_name: 'add' }, { as: 'none' }), DENIED_GRPC);
      await stillReady(ctx, t, 'add');
      return t;
    },
  },
  {
    id: 'f2-grpc-load-no-token',
    finding: '2',
    title: 'gRPC RepositoryModelLoad without a token → UNAUTHENTICATED/PERMISSION_DENIED',
    async run(ctx) {
      const t = new Tally([ctx.repo]);
      t.grpc(await ctx.grpc('RepositoryModelLoad', { model_name: 'add' }, { as: 'none' }), DENIED_GRPC);
      return t;
    },
  },
  {
    id: 'f2-rest-admin-token-works',
    finding: '2',
    title: 'With the admin token, load and index answer 200 (the restriction is not a wall)',
    async run(ctx) {
      const t = new Tally([ctx.repo]);
      t.http(await ctx.http('POST', '/v2/repository/models/add/load', { as: 'admin' }), [200]);
      t.http(await ctx.http('POST', '/v2/repository/index', { as: 'admin' }), [200]);
      return t;
    },
  },
  {
    id: 'f2-rest-infer-no-key',
    finding: '2',
    title: 'POST /v2/models/add/infer without a key (auth on) → 401 unauthenticated',
    async run(ctx) {
      const t = new Tally([ctx.repo]);
      const r = await ctx.http('POST', '/v2/models/add/infer', { as: 'none', body: json(addRequest()) });
      t.http(r, [401], ['unauthenticated']);
      return t;
    },
  },
  {
    id: 'f2-grpc-infer-no-key',
    finding: '2',
    title: 'gRPC ModelInfer without a key (auth on) → UNAUTHENTICATED',
    async run(ctx) {
      const t = new Tally([ctx.repo]);
      const req = {
        model_name: 'add',
        inputs: [
          { name: 'a', datatype: 'FP32', shape: [1, 4], contents: { fp32_contents: [1, 2, 3, 4] } },
          { name: 'b', datatype: 'FP32', shape: [1, 4], contents: { fp32_contents: [0, 0, 0, 0] } },
        ],
      };
      t.grpc(await ctx.grpc('ModelInfer', req, { as: 'none' }), [16], ['unauthenticated']);
      return t;
    },
  },
  {
    id: 'f2-rest-infer-metered',
    finding: '2',
    title: 'POST /v2/models/add/infer with a key → 200, and one usage record for the key (metered like /v1)',
    async run(ctx) {
      const t = new Tally([ctx.repo]);
      const count = async (): Promise<number> => {
        const r = await ctx.http('GET', `/admin/usage?key_id=${ctx.key.id}`, { as: 'admin' });
        const body = JSON.parse(r.body.toString() || '{}') as { records?: Array<{ model: string }> };
        return (body.records ?? []).filter((x) => x.model === 'add').length;
      };
      const before = await count();
      t.http(await ctx.http('POST', '/v2/models/add/infer', { body: json(addRequest()) }), [200]);
      let after = before;
      for (let i = 0; i < 20 && after === before; i++) {
        await new Promise((r) => setTimeout(r, 100));
        after = await count();
      }
      t.check(after === before + 1, 'not metered');
      return t;
    },
  },
  {
    id: 'f2-default-bind-loopback',
    finding: '2',
    title: '`inferd serve --auth off` without --host listens on loopback only (HTTP and gRPC)',
    async run() {
      const t = new Tally();
      // An empty repository: the bind address is the point, and no model has to load first.
      const repo = mkdtempSync(join(tmpdir(), 'inferd-rel-bind-repo-'));
      const data = mkdtempSync(join(tmpdir(), 'inferd-rel-bind-'));
      try {
        const s = await Inferd.start({
          noHost: true,
          args: ['--model-repository', repo, '--auth', 'off', '--data-dir', data],
        });
        try {
          for (const port of [s.httpPort, s.grpcPort]) {
            const addrs = listeners(port);
            t.note(addrs.every(isLoopback) ? 'loopback' : `listens on ${addrs.join(',')}`);
            t.check(addrs.length > 0 && addrs.every(isLoopback), 'listens beyond loopback with auth off');
          }
        } finally {
          await s.stop();
        }
      } finally {
        rmSync(repo, { recursive: true, force: true });
        rmSync(data, { recursive: true, force: true });
      }
      return t;
    },
  },
  {
    id: 'f9-admin-expiry-huge',
    finding: '9',
    title: 'POST /admin/keys with expires_in "99999999999d" → 400 invalid_request; GET /admin/keys still 200',
    async run(ctx) {
      const t = new Tally([ctx.repo]);
      const r = await ctx.http('POST', '/admin/keys', {
        as: 'admin',
        body: json({ name: 'f9-expiry', expires_in: '99999999999d' }),
        headers: { 'content-type': 'application/json' },
      });
      t.http(r, [400], ['invalid_request']);
      t.http(await ctx.http('GET', '/admin/keys', { as: 'admin' }), [200]);
      return t;
    },
  },
  {
    id: 'f9-admin-name-long',
    finding: '9',
    title: 'POST /admin/keys with a 100,000-character name → 400 invalid_request',
    async run(ctx) {
      const t = new Tally([ctx.repo]);
      const r = await ctx.http('POST', '/admin/keys', {
        as: 'admin',
        body: json({ name: 'n'.repeat(100_000) }),
        headers: { 'content-type': 'application/json' },
      });
      t.http(r, [400], ['invalid_request']);
      return t;
    },
  },
  {
    id: 'f9-cli-expiry-huge',
    finding: '9',
    profile: 'long',
    title: '`inferd keys create --expires 99999999999d` fails with a message; `inferd keys list` still works',
    async run() {
      const t = new Tally();
      const data = mkdtempSync(join(tmpdir(), 'inferd-rel-keys-'));
      try {
        const c = keysCli(['create', '--data-dir', data, '--name', 'f9', '--expires', '99999999999d']);
        t.note(`create exit ${c.status}`);
        t.check(c.status !== 0 && c.stderr.trim().length > 0, 'out-of-range expiry accepted');
        const l = keysCli(['list', '--data-dir', data]);
        t.note(`list exit ${l.status}`);
        t.check(l.status === 0, 'keys list fails');
      } finally {
        rmSync(data, { recursive: true, force: true });
      }
      return t;
    },
  },
  {
    id: 'f9-cli-name-long',
    finding: '9',
    profile: 'long',
    title: '`inferd keys create --name <20,000 characters>` fails with a message',
    async run() {
      const t = new Tally();
      const data = mkdtempSync(join(tmpdir(), 'inferd-rel-keys-'));
      try {
        const c = keysCli(['create', '--data-dir', data, '--name', 'n'.repeat(20_000)]);
        t.note(`create exit ${c.status}`);
        t.check(c.status !== 0 && c.stderr.trim().length > 0, 'unbounded key name accepted');
      } finally {
        rmSync(data, { recursive: true, force: true });
      }
      return t;
    },
  },
  {
    id: 'f11-csv-formula',
    finding: '11',
    title:
      '/v1/models/=cmd|calc!A0/predict → 404; the usage CSV export has no cell starting with = + - @ tab or CR, and no record of that name',
    async run(ctx) {
      const t = new Tally([ctx.repo]);
      const name = '=cmd|calc!A0';
      const r = await ctx.http('POST', `/v1/models/${encodeURIComponent(name)}/predict`, {
        body: json({ text: 'hello' }),
        headers: { 'content-type': 'application/json' },
      });
      t.http(r, [404], ['model_not_found', 'not_found']);
      const csv = await ctx.http('GET', `/admin/usage?format=csv&key_id=${ctx.key.id}`, { as: 'admin' });
      t.http(csv, [200]);
      const cells = csv.body
        .toString()
        .split(/\r?\n/)
        .flatMap((line) => line.split(','))
        .map((c) => c.replace(/^"/, ''));
      t.check(!cells.some((c) => /^[=+\-@\t\r]/.test(c)), 'formula in CSV export');
      const records = await ctx.http('GET', `/admin/usage?key_id=${ctx.key.id}`, { as: 'admin' });
      t.check(!records.body.toString().includes('cmd|calc'), 'unknown model metered');
      return t;
    },
  },
  {
    id: 'f11-unknown-model-not-metered',
    finding: '11',
    title: '/v1/models/<99-character unknown name>/predict → 404; no usage record stores the name',
    async run(ctx) {
      const t = new Tally([ctx.repo]);
      // Under fastify's 100-character parameter limit, so the name reaches lookup and metering.
      const name = 'z'.repeat(99);
      const r = await ctx.http('POST', `/v1/models/${name}/predict`, {
        body: json({ text: 'hello' }),
        headers: { 'content-type': 'application/json' },
      });
      t.http(r, [404], ['model_not_found', 'not_found']);
      const records = await ctx.http('GET', `/admin/usage?key_id=${ctx.key.id}`, { as: 'admin' });
      t.check(!records.body.toString().includes(name), 'unknown model metered');
      return t;
    },
  },
];
