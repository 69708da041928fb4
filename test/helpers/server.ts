/**
 * Starts a real inferd server (HTTP and gRPC on free loopback ports) over a repository, for tests.
 * Each server gets its own temporary data directory (removed on close) unless the test gives one.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadSettings, type SettingsInput } from '../../src/config.js';
import { startServer, type RunningServer } from '../../src/server.js';

export async function startTestServer(repository: string, extra: SettingsInput = {}): Promise<RunningServer> {
  const ownDataDir = extra.dataDir === undefined ? mkdtempSync(join(tmpdir(), 'inferd-data-')) : undefined;
  const settings = loadSettings(
    {
      modelRepository: repository,
      host: '127.0.0.1',
      httpPort: 0,
      grpcPort: 0,
      logLevel: 'silent',
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
