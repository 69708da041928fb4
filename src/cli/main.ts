/** The `inferd` command line. */
import { Command, CommanderError } from 'commander';
import { VERSION } from '../version.js';
import { addBenchCommand } from './commands/bench.js';
import { addKeysCommands } from './commands/keys.js';
import { addModelsCommands } from './commands/models.js';
import { addRolloutCommands } from './commands/rollout.js';
import { addTrainCommands } from './commands/train.js';
import { addTuneCommand } from './commands/tune.js';
import { addServeCommand } from './commands/serve.js';

const program = new Command();
program
  .name('inferd')
  .description('inferd: serve ONNX models over Open Inference Protocol v2')
  .version(VERSION, '-v, --version')
  .showHelpAfterError()
  // Usage errors (unknown option, missing argument) exit 2, as `serve`'s bad settings and
  // `evaluate`'s gate-could-not-run do; help and --version exit 0. Subcommands inherit this.
  .exitOverride();
addServeCommand(program);
addKeysCommands(program);
addBenchCommand(program);
addTrainCommands(program);
addModelsCommands(program);
addRolloutCommands(program);
addTuneCommand(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 2);
  process.stderr.write(`inferd: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
