/** Starts a real inferd server (HTTP on a free loopback port) over a repository, for tests. */
import { pino } from 'pino';
import { loadSettings, type SettingsInput } from '../../src/config.js';
import { startServer, type RunningServer } from '../../src/server.js';

export async function startTestServer(repository: string, extra: SettingsInput = {}): Promise<RunningServer> {
  const settings = loadSettings(
    {
      modelRepository: repository,
      host: '127.0.0.1',
      httpPort: 0,
      grpcPort: 0,
      logLevel: 'silent',
      ...extra,
    },
    {},
  );
  return startServer(settings, { logger: pino({ level: process.env.INFERD_TEST_LOG ?? 'silent' }) });
}
