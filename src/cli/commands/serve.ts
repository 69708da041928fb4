/** `inferd serve`: runs the server until SIGTERM/SIGINT; the first signal drains, a second exits at once. */
import type { Command } from 'commander';
import { loadSettings, SettingsError, type SettingsInput } from '../../config.js';
import { fixHeapGrowth } from '../process/heap-growth.js';
import { startServer } from '../../server.js';

interface ServeFlags {
  modelRepository?: string;
  host?: string;
  httpPort?: string;
  grpcPort?: string;
  maxBodyBytes?: string;
  logLevel?: string;
  strictReadiness?: boolean;
  shutdownTimeoutMs?: string;
  heapGrowingPercent?: string;
  auth?: string;
  dataDir?: string;
  databaseUrl?: string;
  databaseSchema?: string;
  redisUrl?: string;
  plansFile?: string;
  adminToken?: string;
  config?: string;
}

export function addServeCommand(program: Command): void {
  program
    .command('serve')
    .description('serve every model of a repository folder over Open Inference Protocol v2')
    .option('--model-repository <dir>', 'model repository folder (env INFERD_MODEL_REPOSITORY)', undefined)
    .option('--host <host>', 'address to listen on (env INFERD_HOST; default 0.0.0.0)')
    .option('--http-port <port>', 'HTTP port (env INFERD_HTTP_PORT or PORT; default 8080)')
    .option('--grpc-port <port>', 'gRPC port, 0 = any free port (env INFERD_GRPC_PORT; default 8081)')
    .option('--max-body-bytes <n>', 'largest request body in bytes (default 67108864 = 64 MiB)')
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent (default info)')
    .option('--strict-readiness', 'ready only when every model is READY')
    .option('--shutdown-timeout-ms <ms>', 'longest drain on SIGTERM (default 30000)')
    .option(
      '--heap-growing-percent <n>',
      'V8 heap limit after a full GC = live × (1 + n/100); 0 = V8 default (default 100)',
    )
    .option('--auth <on|off>', 'customer API keys, limits and metering on /v1 (env INFERD_AUTH; default on)')
    .option(
      '--data-dir <dir>',
      'folder of the embedded key/usage store (env INFERD_DATA_DIR; default ./.inferd)',
    )
    .option(
      '--database-url <url>',
      'PostgreSQL for keys and usage, shared by replicas (env INFERD_DATABASE_URL)',
    )
    .option('--database-schema <name>', 'PostgreSQL schema (env INFERD_DATABASE_SCHEMA; default inferd)')
    .option('--redis-url <url>', 'Redis for rate limits shared by replicas (env INFERD_REDIS_URL)')
    .option('--plans-file <file>', 'JSON file of plans and model weights (env INFERD_PLANS_FILE)')
    .option('--admin-token <token>', 'enables /admin with this bearer token (prefer env INFERD_ADMIN_TOKEN)')
    .option('--config <file>', 'JSON file of settings (flags and env override it)')
    .action(async (flags: ServeFlags) => {
      const input: SettingsInput = {
        modelRepository: flags.modelRepository,
        host: flags.host,
        httpPort: flags.httpPort,
        grpcPort: flags.grpcPort,
        maxBodyBytes: flags.maxBodyBytes,
        logLevel: flags.logLevel,
        strictReadiness: flags.strictReadiness,
        shutdownTimeoutMs: flags.shutdownTimeoutMs,
        heapGrowingPercent: flags.heapGrowingPercent,
        auth: flags.auth,
        dataDir: flags.dataDir,
        databaseUrl: flags.databaseUrl,
        databaseSchema: flags.databaseSchema,
        redisUrl: flags.redisUrl,
        plansFile: flags.plansFile,
        adminToken: flags.adminToken,
      };
      let settings;
      try {
        settings = loadSettings(input, process.env, flags.config ?? process.env.INFERD_CONFIG);
      } catch (err) {
        if (err instanceof SettingsError) {
          process.stderr.write(`inferd: ${err.message}\n`);
          process.exit(2);
        }
        throw err;
      }
      // Before the first request: the factor applies from the next full GC on.
      fixHeapGrowth(settings.heapGrowingPercent);
      const server = await startServer(settings);
      let signals = 0;
      const onSignal = (sig: NodeJS.Signals): void => {
        signals += 1;
        if (signals > 1) {
          server.logger.warn({ signal: sig }, 'second signal: exiting now');
          process.exit(130);
        }
        server.logger.info({ signal: sig }, 'draining: readiness is now 503, finishing in-flight requests');
        server.close().then(
          () => process.exit(0),
          (err: unknown) => {
            server.logger.error({ err }, 'shutdown failed');
            process.exit(1);
          },
        );
      };
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
    });
}
