/** The `inferd` command line. */
import { Command } from 'commander';
import { VERSION } from '../version.js';
import { addBenchCommand } from './commands/bench.js';
import { addKeysCommands } from './commands/keys.js';
import { addTrainCommands } from './commands/train.js';
import { addServeCommand } from './commands/serve.js';

const program = new Command();
program
  .name('inferd')
  .description('inferd: serve ONNX models over Open Inference Protocol v2')
  .version(VERSION, '-v, --version')
  .showHelpAfterError();
addServeCommand(program);
addKeysCommands(program);
addBenchCommand(program);
addTrainCommands(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`inferd: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
