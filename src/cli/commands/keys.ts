/**
 * `inferd keys create|list|revoke|rotate`: manage API keys in the same store `inferd serve` uses
 * (`--data-dir`, or `--database-url` for PostgreSQL). `create` and `rotate` print the new key alone
 * on stdout (scripts capture it); everything else about it goes to stderr. The key is shown once.
 */
import type { Command } from 'commander';
import { loadSettings, type Settings } from '../../config.js';
import { KeyAdmin, publicKey } from '../../gateway/key-admin.js';
import { parseDuration } from '../../gateway/keys.js';
import { loadPlans } from '../../gateway/plans.js';
import { openStore } from '../../gateway/store/open.js';
import type { ApiKeyRecord } from '../../gateway/store/types.js';

interface StoreFlags {
  dataDir?: string;
  databaseUrl?: string;
  databaseSchema?: string;
  plansFile?: string;
}

function storeOptions(cmd: Command): Command {
  return cmd
    .option('--data-dir <dir>', 'folder of the embedded store (env INFERD_DATA_DIR; default ./.inferd)')
    .option('--database-url <url>', 'PostgreSQL URL instead of SQLite (env INFERD_DATABASE_URL)')
    .option('--database-schema <name>', 'PostgreSQL schema (env INFERD_DATABASE_SCHEMA; default inferd)')
    .option('--plans-file <file>', 'JSON plans file (env INFERD_PLANS_FILE)');
}

async function withAdmin<T>(flags: StoreFlags, fn: (admin: KeyAdmin) => Promise<T>): Promise<T> {
  const s: Settings = loadSettings({
    dataDir: flags.dataDir,
    databaseUrl: flags.databaseUrl,
    databaseSchema: flags.databaseSchema,
    plansFile: flags.plansFile,
  });
  const plans = loadPlans(s.plansFile);
  const store = await openStore({
    dataDir: s.dataDir,
    databaseUrl: s.databaseUrl,
    databaseSchema: s.databaseSchema,
  });
  try {
    return await fn(new KeyAdmin(store, Object.keys(plans.plans)));
  } finally {
    await store.close();
  }
}

const iso = (ms: number | null): string => (ms === null ? '-' : new Date(ms).toISOString());

function describeKey(k: ApiKeyRecord): string {
  return [
    `id=${k.id}`,
    `prefix=${k.prefix}`,
    `name=${JSON.stringify(k.name)}`,
    `plan=${k.plan}`,
    `models=${k.scopes ? k.scopes.join(',') : '*'}`,
    `expires=${iso(k.expiresAt)}`,
  ].join(' ');
}

export function addKeysCommands(program: Command): void {
  const keys = program.command('keys').description('manage customer API keys');

  storeOptions(keys.command('create'))
    .description('create a key; prints it once on stdout')
    .requiredOption('--name <name>', 'what the key is for')
    .option('--plan <plan>', 'plan name (default free)')
    .option('--models <list>', 'comma-separated model names the key may call (default all)')
    .option('--expires <duration>', 'lifetime, e.g. 30d, 12h (default never)')
    .option('--owner <owner>', 'who owns the key (e-mail, team)')
    .option('--test', 'make an ik_test_ key instead of ik_live_')
    .action(
      async (
        f: StoreFlags & {
          name: string;
          plan?: string;
          models?: string;
          expires?: string;
          owner?: string;
          test?: boolean;
        },
      ) => {
        await withAdmin(f, async (admin) => {
          const { key, record } = await admin.create({
            name: f.name,
            plan: f.plan,
            owner: f.owner,
            models: f.models
              ?.split(',')
              .map((m) => m.trim())
              .filter(Boolean),
            expiresInMs: f.expires ? parseDuration(f.expires) : undefined,
            environment: f.test ? 'test' : 'live',
          });
          process.stderr.write(`created ${describeKey(record)}\nstore the key now: it is not shown again\n`);
          process.stdout.write(`${key}\n`);
        });
      },
    );

  storeOptions(keys.command('list'))
    .description('list keys (never their values)')
    .option('--json', 'JSON lines instead of a table')
    .action(async (f: StoreFlags & { json?: boolean }) => {
      await withAdmin(f, async (admin) => {
        const now = Date.now();
        for (const k of await admin.list()) {
          if (f.json) {
            process.stdout.write(`${JSON.stringify(publicKey(k))}\n`);
            continue;
          }
          const state =
            k.revokedAt !== null
              ? 'revoked'
              : k.expiresAt !== null && k.expiresAt <= now
                ? 'expired'
                : 'active';
          process.stdout.write(`${describeKey(k)} state=${state}\n`);
        }
      });
    });

  storeOptions(keys.command('revoke'))
    .description('revoke a key by id or value; takes effect within one second')
    .argument('<keyOrId>')
    .action(async (keyOrId: string, f: StoreFlags) => {
      await withAdmin(f, async (admin) => {
        const k = await admin.revoke(keyOrId);
        process.stdout.write(`revoked ${k.id} at ${iso(k.revokedAt)}\n`);
      });
    });

  storeOptions(keys.command('rotate'))
    .description('replace a key; the old one keeps working for the grace period')
    .argument('<keyOrId>')
    .option('--grace <duration>', 'how long the old key still works (default 24h; 0s = revoke now)', '24h')
    .action(async (keyOrId: string, f: StoreFlags & { grace: string }) => {
      await withAdmin(f, async (admin) => {
        const r = await admin.rotate(keyOrId, parseDuration(f.grace));
        process.stderr.write(
          `rotated ${r.old.id} → ${describeKey(r.record)}\nold key works until ${iso(r.old.revokedAt ?? r.old.expiresAt)}\n`,
        );
        process.stdout.write(`${r.key}\n`);
      });
    });
}
