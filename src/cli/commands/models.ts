/**
 * `inferd models list|show|alias`: the registry view of a local model repository
 * (src/repository/registry.ts): versions with their lineage and integrity, aliases and their history.
 */
import { hostname, userInfo } from 'node:os';
import type { Command } from 'commander';
import type { Lineage } from '../../core/lineage.js';
import {
  aliasHistory,
  aliasesOf,
  listModels,
  listVersionEntries,
  moveAlias,
} from '../../repository/registry.js';

const REPO_OPTION = ['--model-repository <dir>', 'model repository root', './models'] as const;

const f4 = (x: unknown): string => (typeof x === 'number' ? x.toFixed(4) : '-');

function testMetric(l: Lineage | undefined, name: string): string {
  const test = (l?.metrics?.['test'] ?? {}) as Record<string, unknown>;
  return f4(test[name]);
}

/** Who moves an alias: --by, else the CI actor, else user@host. */
function defaultActor(): string {
  const actor = process.env['GITHUB_ACTOR'];
  if (actor) return `${actor} (GitHub Actions)`;
  try {
    return `${userInfo().username}@${hostname()}`;
  } catch {
    return `uid ${process.getuid?.() ?? '?'}@${hostname()}`;
  }
}

export function addModelsCommands(program: Command): void {
  const models = program.command('models').description('versions, lineage and aliases of a model repository');

  models
    .command('list')
    .description('every model and version: aliases, integrity, test F1, code revision, created')
    .option(...REPO_OPTION)
    .action(async (opts: { modelRepository: string }) => {
      const rows = [['model', 'version', 'aliases', 'integrity', 'test f1', 'revision', 'created']];
      for (const model of listModels(opts.modelRepository)) {
        for (const v of await listVersionEntries(opts.modelRepository, model)) {
          rows.push([
            model,
            v.version,
            v.aliases.join(',') || '-',
            v.integrity,
            testMetric(v.lineage, 'f1'),
            v.lineage?.code.revision?.slice(0, 12) ?? '-',
            v.lineage?.created_at ?? '-',
          ]);
        }
      }
      const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
      process.stdout.write(
        rows
          .map((r) =>
            r
              .map((c, i) => c.padEnd(widths[i] ?? 0))
              .join('  ')
              .trimEnd(),
          )
          .join('\n') + '\n',
      );
    });

  models
    .command('show')
    .description("one model's versions with their full lineage, its aliases and the alias history")
    .argument('<model>')
    .option(...REPO_OPTION)
    .option('--version <n>', 'only this version')
    .option('--json', 'print JSON')
    .action(async (model: string, opts: { modelRepository: string; version?: string; json?: boolean }) => {
      const versions = (await listVersionEntries(opts.modelRepository, model)).filter(
        (v) => opts.version === undefined || v.version === opts.version,
      );
      const out = {
        model,
        aliases: aliasesOf(opts.modelRepository, model),
        versions: versions.map((v) => ({
          version: v.version,
          integrity: v.integrity,
          aliases: v.aliases,
          lineage: v.lineage ?? null,
        })),
        alias_history: aliasHistory(opts.modelRepository, model),
      };
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
        return;
      }
      const lines = [`model ${model}`, `aliases ${JSON.stringify(out.aliases)}`];
      for (const v of versions) {
        const l = v.lineage;
        lines.push(
          '',
          `version ${v.version}  [${v.integrity}]${v.aliases.length ? `  aliases: ${v.aliases.join(', ')}` : ''}`,
        );
        if (!l) continue;
        lines.push(
          `  created      ${l.created_at}`,
          `  artifact     ${l.artifact.file} sha256:${l.artifact.sha256} (${l.artifact.bytes} bytes)`,
          `  data         ${l.data.source} sha256:${l.data.sha256}`,
          `  rows         ${Object.entries(l.data.rows)
            .map(([k, n]) => `${k}=${n}`)
            .join(' ')}`,
          `  test split   sha256:${l.data.test_split_sha256}`,
          ...(l.data.feedback
            ? [`  feedback     ${l.data.feedback.rows} rows sha256:${l.data.feedback.sha256}`]
            : []),
          `  code         inferd ${l.code.inferd} revision ${l.code.revision ?? 'unknown'}`,
          `  parameters   ${JSON.stringify(l.parameters)}`,
          `  test         f1=${testMetric(l, 'f1')} precision=${testMetric(l, 'precision')} roc_auc=${testMetric(l, 'roc_auc')}`,
          `  baselines    ${Object.keys(l.baselines).join(', ') || '-'}`,
          `  compared to  ${l.compared_against ? `${l.compared_against.ref} (v${l.compared_against.version})` : '-'}`,
        );
      }
      if (out.alias_history.length > 0) {
        lines.push('', 'alias history');
        for (const h of out.alias_history) {
          lines.push(`  ${h.at}  ${h.alias}: ${h.from ?? '-'} -> ${h.to}  by ${h.by}: ${h.reason}`);
        }
      }
      process.stdout.write(`${lines.join('\n')}\n`);
    });

  models
    .command('alias')
    .description('point an alias (production, staging, canary, any name) at a version, with a reason')
    .argument('<model>')
    .argument('<alias>')
    .argument('<version>')
    .requiredOption('--reason <text>', 'why (kept in the alias history)')
    .option('--by <who>', 'who (default: $GITHUB_ACTOR or user@host)')
    .option(...REPO_OPTION)
    .action(
      (
        model: string,
        alias: string,
        version: string,
        opts: { reason: string; by?: string; modelRepository: string },
      ) => {
        const move = moveAlias(opts.modelRepository, model, alias, version, {
          by: opts.by ?? defaultActor(),
          reason: opts.reason,
        });
        process.stdout.write(`${model}: ${move.alias} ${move.from ?? '-'} -> ${move.to}\n`);
      },
    );
}
