/**
 * `inferd rollout start|promote|rollback|status`: a model's canary, through a running server's
 * admin API (`--url`, the admin token from `--admin-token` or env INFERD_ADMIN_TOKEN). The server
 * checks that both versions are READY, applies the change at once and stores it, where the other
 * replicas read it within --rollout-reload-ms. Exit 0 done, 1 refused (the server's error is
 * printed), 2 usage error.
 */
import type { Command } from 'commander';

interface ServerFlags {
  url: string;
  adminToken?: string;
  json?: boolean;
}

function serverOptions(cmd: Command): Command {
  return cmd
    .option('--url <url>', 'the server (env INFERD_URL)', process.env.INFERD_URL || 'http://127.0.0.1:8080')
    .option('--admin-token <token>', 'admin token (prefer env INFERD_ADMIN_TOKEN)')
    .option('--json', 'print the rollout as JSON');
}

const number =
  (name: string) =>
  (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n))
      throw new Error(`${name} must be a number, got '${v.slice(0, 32)}'`);
    return n;
  };

async function call(
  f: ServerFlags,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<Record<string, unknown>> {
  const token = f.adminToken ?? process.env.INFERD_ADMIN_TOKEN;
  if (!token) throw new Error('the admin token is required: --admin-token or env INFERD_ADMIN_TOKEN');
  const res = await fetch(new URL(`/admin/rollouts${path}`, f.url), {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new Error(`${res.status} from ${f.url}: ${text.slice(0, 200)}`);
  }
  if (!res.ok) {
    throw new Error(
      `${res.status} ${String(json.code ?? '')}: ${String(json.detail ?? json.error ?? json.title ?? text.slice(0, 200))}`,
    );
  }
  return json;
}

/** The previous version's state on the server asked (status after a promote), if it sent one. */
function previousLine(p: unknown): string {
  if (!p || typeof p !== 'object') return '';
  const { version, state, reason } = p as Record<string, unknown>;
  return `\n  previous version ${String(version)} on this server: ${String(state)}${reason ? ` (${String(reason)})` : ''}`;
}

/** One line per rollout: what a person reads; --json for scripts. */
function print(f: ServerFlags, r: Record<string, unknown>): void {
  if (f.json) {
    process.stdout.write(`${JSON.stringify(r)}\n`);
    return;
  }
  process.stdout.write(
    `${String(r.model)}: ${String(r.phase)} production=${String(r.production)} candidate=${String(r.candidate)} ` +
      `canary=${String(r.percent)}% shadow=${String(r.shadow_percent)}% revision=${String(r.revision)}\n` +
      `  ${String(r.reason)} (by ${String(r.by)}, ${String(r.updated_at)})` +
      (r.retain_until ? `\n  previous version retained until ${String(r.retain_until)}` : '') +
      previousLine(r.previous) +
      (r.alias ? `\n  alias: ${String(r.alias)}` : '') +
      '\n',
  );
}

export function addRolloutCommands(program: Command): void {
  const rollout = program
    .command('rollout')
    .description("a model's canary: split, shadow, promote, rollback");

  serverOptions(rollout.command('start'))
    .description("start a canary of a version (or change the running canary's shares)")
    .argument('<model>')
    .requiredOption('--version <v>', 'the candidate version')
    .requiredOption(
      '--percent <p>',
      'share of unversioned requests the candidate answers (0-100)',
      number('--percent'),
    )
    .option(
      '--shadow <p>',
      "share of production's requests mirrored to the candidate (0-100)",
      number('--shadow'),
    )
    .option('--production <v>', 'the version to compare with (default: the production alias)')
    .option('--window-ms <ms>', 'rollback window (default 60000)', number('--window-ms'))
    .option(
      '--min-samples <n>',
      'candidate requests in the window before it is judged (default 50)',
      number('--min-samples'),
    )
    .option(
      '--error-margin <x>',
      "roll back when the error rate exceeds production's by more (default 0.05)",
      number('--error-margin'),
    )
    .option('--p99-margin <x>', "…or p99 exceeds production's × (1 + x) (default 1)", number('--p99-margin'))
    .option('--p99-slack-ms <ms>', '…and by at least this much (default 10)', number('--p99-slack-ms'))
    .option('--reason <text>', 'why, for the record')
    .option('--by <who>', 'who (default $GITHUB_ACTOR or $USER)')
    .action(
      async (
        model: string,
        f: ServerFlags & {
          version: string;
          percent: number;
          shadow?: number;
          production?: string;
          windowMs?: number;
          minSamples?: number;
          errorMargin?: number;
          p99Margin?: number;
          p99SlackMs?: number;
          reason?: string;
          by?: string;
        },
      ) => {
        const policy = {
          window_ms: f.windowMs,
          min_samples: f.minSamples,
          error_rate_margin: f.errorMargin,
          p99_margin: f.p99Margin,
          p99_slack_ms: f.p99SlackMs,
        };
        const given = Object.fromEntries(Object.entries(policy).filter(([, v]) => v !== undefined));
        print(
          f,
          await call(f, 'POST', `/${encodeURIComponent(model)}`, {
            version: f.version,
            percent: f.percent,
            ...(f.shadow !== undefined ? { shadow_percent: f.shadow } : {}),
            ...(f.production !== undefined ? { production: f.production } : {}),
            ...(Object.keys(given).length > 0 ? { policy: given } : {}),
            ...(f.reason !== undefined ? { reason: f.reason } : {}),
            by: who(f.by),
          }),
        );
      },
    );

  for (const [name, description] of [
    ['promote', 'production := the candidate; the previous version stays available for instant rollback'],
    ['rollback', 'send every unversioned request back to production'],
  ] as const) {
    serverOptions(rollout.command(name))
      .description(description)
      .argument('<model>')
      .option('--reason <text>', 'why, for the record')
      .option('--by <who>', 'who (default $GITHUB_ACTOR or $USER)')
      .action(async (model: string, f: ServerFlags & { reason?: string; by?: string }) => {
        print(
          f,
          await call(f, 'POST', `/${encodeURIComponent(model)}/${name}`, {
            by: who(f.by),
            ...(f.reason !== undefined ? { reason: f.reason } : {}),
          }),
        );
      });
  }

  serverOptions(rollout.command('status'))
    .description("every rollout, or one model's with its live windows on that replica")
    .argument('[model]')
    .action(async (model: string | undefined, f: ServerFlags) => {
      if (model) {
        const r = await call(f, 'GET', `/${encodeURIComponent(model)}`);
        print(f, r);
        if (!f.json && r.windows) process.stdout.write(`  windows ${JSON.stringify(r.windows)}\n`);
        return;
      }
      const all = await call(f, 'GET', '');
      for (const r of all.rollouts as Record<string, unknown>[]) print(f, r);
    });
}

function who(by: string | undefined): string {
  return (by ?? process.env.GITHUB_ACTOR ?? process.env.USER ?? 'cli').slice(0, 128);
}
