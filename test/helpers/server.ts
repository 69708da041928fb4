/**
 * Starts a real inferd server (HTTP and gRPC on free loopback ports) over a repository, for tests.
 * Each server gets its own temporary data directory (removed on close) unless the test gives one.
 *
 * Auth stays on (the default), with TEST_ADMIN_TOKEN as the admin token, so the /v2 repository
 * and statistics APIs need `adminHeaders()` as in production; /v2 inference is open
 * (`v2Auth: 'off'`) unless the test is about keys and asks for `v2Auth: 'keys'`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadSettings, type SettingsInput } from '../../src/config.js';
import { startServer, type RunningServer } from '../../src/server.js';

export const TEST_ADMIN_TOKEN = 'test-admin-token-0123456789';

/** The Authorization header the admin-token routes need on a test server. */
export function adminHeaders(extra: Record<string, string> = {}): Record<string, string> {
  return { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, ...extra };
}

export async function startTestServer(repository: string, extra: SettingsInput = {}): Promise<RunningServer> {
  const ownDataDir = extra.dataDir === undefined ? mkdtempSync(join(tmpdir(), 'inferd-data-')) : undefined;
  const settings = loadSettings(
    {
      modelRepository: repository,
      host: '127.0.0.1',
      httpPort: 0,
      grpcPort: 0,
      logLevel: 'silent',
      adminToken: TEST_ADMIN_TOKEN,
      v2Auth: 'off',
      ...(ownDataDir ? { dataDir: ownDataDir } : {}),
      ...extra,
    },
    {},
  );
  const server = await startServer(settings, {
    logger: pino({ level: process.env.INFERD_TEST_LOG ?? 'silent' }),
  });
  if (!ownDataDir) return server;
  const close = server.close;
  return {
    ...server,
    close: async () => {
      await close();
      rmSync(ownDataDir, { recursive: true, force: true });
    },
  };
}
