/** Starts a test server with the gateway on, a fresh data dir, an admin token and optional plans. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SettingsInput } from '../../src/config.js';
import { KeyAdmin } from '../../src/gateway/key-admin.js';
import { DEFAULT_PLANS, type PlanSet } from '../../src/gateway/plans.js';
import type { RunningServer } from '../../src/server.js';
import { SqliteStore } from '../../src/gateway/store/sqlite.js';
import { startTestServer } from '../helpers/server.js';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';

export interface GatewayServer {
  server: RunningServer;
  url: string;
  dataDir: string;
  /** A second handle on the same SQLite file (WAL allows it), for creating keys and reading usage. */
  store: SqliteStore;
  admin: KeyAdmin;
  close(): Promise<void>;
}

export async function startGatewayServer(
  repo: string,
  opts: { plans?: PlanSet; settings?: SettingsInput } = {},
): Promise<GatewayServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'inferd-data-'));
  const plans = opts.plans ?? DEFAULT_PLANS;
  const plansFile = join(dataDir, 'plans.json');
  writeFileSync(plansFile, JSON.stringify(plans));
  const server = await startTestServer(repo, {
    auth: 'on',
    dataDir,
    plansFile,
    adminToken: ADMIN_TOKEN,
    ...opts.settings,
  });
  const store = new SqliteStore(join(dataDir, 'inferd.db'));
  return {
    server,
    url: server.httpUrl,
    dataDir,
    store,
    admin: new KeyAdmin(store, Object.keys(plans.plans)),
    async close() {
      await server.close();
      await store.close();
    },
  };
}

export function bearer(key: string): Record<string, string> {
  return { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
}
