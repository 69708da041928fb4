/**
 * `inferd train spam` and `inferd evaluate spam`. Training writes `<out>/spam/<version>/`;
 * evaluation applies the release gate (src/training/spam/gate.ts): exit 0 passed, 1 gate failed,
 * 2 usage error or the gate could not run.
 */
import type { Command } from 'commander';
import { InferdError } from '../../errors.js';
import { writeFileSync } from 'node:fs';
import { evaluateSpam } from '../../training/spam/evaluate.js';
import { reportJson, reportMarkdown, reportText } from '../../training/spam/gate-report.js';
import { trainSpam, DEFAULT_SEED } from '../../training/spam/train.js';
import { readSpamFeedback } from './train-feedback.js';

interface TrainCliOptions {
  out: string;
  seed: number;
  version?: number;
  withFeedback?: boolean;
  dataDir?: string;
  databaseUrl?: string;
  databaseSchema?: string;
}

function parseIntOption(name: string): (v: string) => number {
  return (v: string) => {
    if (!/^\d+$/.test(v))
      throw new InferdError('invalid_request', `${name} must be a non-negative integer, got '${v}'`);
    return Number(v);
  };
}

const FORMATS = ['text', 'markdown', 'json'] as const;

interface EvaluateCliOptions {
  modelRepository: string;
  candidate?: string;
  version?: number;
  against?: string;
  checklist?: string;
  format: (typeof FORMATS)[number];
  markdown?: string;
  json?: string;
}

function requireSpam(model: string): void {
  if (model !== 'spam') {
    throw new InferdError(
      'model_not_found',
      `Unknown model '${model}': only 'spam' can be trained/evaluated here.`,
    );
  }
}

export function addTrainCommands(program: Command): void {
  // The root's `-v, --version` would otherwise swallow `--version <n>` given after a subcommand.
  // With positional options, root options are only read before the subcommand name.
  program.enablePositionalOptions();
  program
    .command('train')
    .description('train a built-in model and write it into a model repository')
    .argument('<model>', "model to train (only 'spam')")
    .requiredOption('--out <dir>', 'model repository root; writes <dir>/spam/<version>/')
    .option(
      '--seed <n>',
      'random seed (same seed => byte-identical model)',
      parseIntOption('--seed'),
      DEFAULT_SEED,
    )
    .option(
      '--version <n>',
      'version folder to write (default: next free version)',
      parseIntOption('--version'),
    )
    .option(
      '--with-feedback',
      'add the customer corrections in the store to the train split (deduplicated; recorded in lineage.json)',
    )
    .option(
      '--data-dir <dir>',
      "with --with-feedback: the server's data folder (env INFERD_DATA_DIR; default ./.inferd)",
    )
    .option(
      '--database-url <url>',
      'with --with-feedback: PostgreSQL URL instead of SQLite (env INFERD_DATABASE_URL)',
    )
    .option('--database-schema <name>', 'PostgreSQL schema (env INFERD_DATABASE_SCHEMA; default inferd)')
    .action(async (model: string, opts: TrainCliOptions) => {
      requireSpam(model);
      let feedback;
      if (opts.withFeedback) {
        const read = await readSpamFeedback(opts);
        process.stderr.write(
          `feedback: ${read.rows.length} corrections with a kept input` +
            (read.skipped > 0 ? ` (${read.skipped} without a label or text skipped)` : '') +
            '\n',
        );
        feedback = read.rows;
      }
      await trainSpam({
        out: opts.out,
        seed: opts.seed,
        version: opts.version === undefined ? undefined : String(opts.version),
        feedback,
      });
    });

  program
    .command('evaluate')
    .description(
      'score a candidate version against production on the same held-out data and apply the release gate ' +
        '(exit 0 passed, 1 gate failed, 2 usage error or the gate could not run)',
    )
    .argument('<model>', "model to evaluate (only 'spam')")
    .requiredOption('--model-repository <dir>', 'model repository root')
    .option('--candidate <version>', 'version to judge (default: the highest)')
    .option('--version <n>', 'same as --candidate (older name)', parseIntOption('--version'))
    .option('--against <ref>', "alias or version to compare with, or 'none' (default: production)")
    .option('--checklist <dir>', 'CheckList suites (default: <repository>/<model>/checklist)')
    .option('--format <format>', 'stdout: text, markdown or json', 'text')
    .option('--markdown <file>', 'also write the Markdown report to this file')
    .option('--json <file>', 'also write the JSON report to this file')
    .action(async (model: string, opts: EvaluateCliOptions) => {
      try {
        requireSpam(model);
        if (!FORMATS.includes(opts.format)) {
          throw new InferdError(
            'invalid_request',
            `--format must be one of ${FORMATS.join(', ')}, got '${opts.format}'`,
          );
        }
        const report = await evaluateSpam({
          repository: opts.modelRepository,
          candidate: opts.candidate ?? (opts.version === undefined ? undefined : String(opts.version)),
          against: opts.against,
          checklist: opts.checklist,
        });
        const forms = { text: reportText, markdown: reportMarkdown, json: reportJson };
        process.stdout.write(forms[opts.format](report));
        if (opts.markdown !== undefined) writeFileSync(opts.markdown, reportMarkdown(report));
        if (opts.json !== undefined) writeFileSync(opts.json, reportJson(report));
        process.exitCode = report.passed ? 0 : 1;
      } catch (err) {
        // The gate could not be applied (bad argument, missing version or data): not a gate failure.
        process.stderr.write(`inferd evaluate: ${(err as Error).message}\n`);
        process.exitCode = 2;
      }
    });
}
