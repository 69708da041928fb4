/**
 * `inferd train spam` and `inferd evaluate spam`. Training writes `<out>/spam/<version>/`;
 * evaluation runs the ONNX file on the recorded test split and exits 1 when the gate fails.
 */
import type { Command } from 'commander';
import { InferdError } from '../../errors.js';
import { evaluateSpam, formatReport } from '../../training/spam/evaluate.js';
import { trainSpam, DEFAULT_SEED } from '../../training/spam/train.js';

function parseIntOption(name: string): (v: string) => number {
  return (v: string) => {
    if (!/^\d+$/.test(v))
      throw new InferdError('invalid_request', `${name} must be a non-negative integer, got '${v}'`);
    return Number(v);
  };
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
    .action(async (model: string, opts: { out: string; seed: number; version?: number }) => {
      requireSpam(model);
      await trainSpam({
        out: opts.out,
        seed: opts.seed,
        version: opts.version === undefined ? undefined : String(opts.version),
      });
    });

  program
    .command('evaluate')
    .description('evaluate a model version on its held-out test split; exit 1 when the release gate fails')
    .argument('<model>', "model to evaluate (only 'spam')")
    .requiredOption('--model-repository <dir>', 'model repository root')
    .option('--version <n>', 'version to evaluate (default: highest)', parseIntOption('--version'))
    .action(async (model: string, opts: { modelRepository: string; version?: number }) => {
      requireSpam(model);
      const report = await evaluateSpam({
        repository: opts.modelRepository,
        version: opts.version === undefined ? undefined : String(opts.version),
      });
      process.stdout.write(formatReport(report));
      if (!report.passed) process.exitCode = 1;
    });
}
