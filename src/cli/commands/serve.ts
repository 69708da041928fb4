/**
 * `inferd serve`: runs the server until SIGTERM/SIGINT; the first signal drains, a second exits at once.
 * It is the default command: `inferd` alone and `inferd --http-port 9000` serve too, so a container
 * whose ENTRYPOINT is the CLI starts the server with no arguments, with `serve` (SageMaker's
 * convention) or with flags only (a platform's `args:`).
 */
import type { Command } from 'commander';
import {
  loadSettings,
  SETTING_HELP,
  SETTING_SOURCES,
  SettingsError,
  type SettingsInput,
} from '../../config.js';
import { fixHeapGrowth } from '../process/heap-growth.js';
import { startServer } from '../../server.js';

export function addServeCommand(program: Command): void {
  const serve = program
    .command('serve', { isDefault: true })
    .description(
      'serve every model of a repository (a folder, s3:// or gs://) over Open Inference Protocol v2 (the default command)',
    );
  // One flag per setting, from the settings' own table (src/config.ts).
  for (const [key, { arg, help, repeatable }] of Object.entries(SETTING_HELP)) {
    const src = SETTING_SOURCES[key as keyof typeof SETTING_SOURCES];
    const description = `${help} (env ${src.env})`;
    if (repeatable) {
      serve.option(`${src.flag} <${arg}>`, description, (v: string, prev: string[] | undefined) => [
        ...(prev ?? []),
        v,
      ]);
    } else {
      serve.option(arg ? `${src.flag} <${arg}>` : src.flag, description);
    }
  }
  serve
    .option('--config <file>', 'JSON file of settings (flags and env override it; env INFERD_CONFIG)')
    .action(async (flags: Record<string, unknown>) => {
      const input: SettingsInput = Object.fromEntries(
        Object.keys(SETTING_HELP).map((key) => [key, flags[key]]),
      );
      let settings;
      try {
        settings = loadSettings(
          input,
          process.env,
          (flags.config as string | undefined) ?? process.env.INFERD_CONFIG,
        );
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
