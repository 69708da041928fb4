/**
 * Progress reporting for training: a cli-progress bar on an interactive terminal, plain log lines
 * (at most one per 10% of a stage) when stdout is not a TTY or CI=true, nothing when quiet.
 */
import cliProgress from 'cli-progress';

export interface Progress {
  stage(name: string, total: number): void;
  update(done: number, info?: string): void;
  log(line: string): void;
  stop(): void;
}

export function createProgress(opts: { quiet?: boolean; stream?: NodeJS.WriteStream } = {}): Progress {
  const stream = opts.stream ?? process.stderr;
  if (opts.quiet) return { stage() {}, update() {}, log() {}, stop() {} };
  const interactive = stream.isTTY === true && process.env['CI'] !== 'true';
  let name = '';
  let total = 0;
  let lastDecile = -1;
  let bar: cliProgress.SingleBar | undefined;
  const finish = (): void => {
    bar?.stop();
    bar = undefined;
  };
  return {
    stage(n, t) {
      finish();
      name = n;
      total = t;
      lastDecile = -1;
      if (interactive) {
        bar = new cliProgress.SingleBar(
          { format: `${n.padEnd(12)} [{bar}] {value}/{total} {info}`, stream, hideCursor: true },
          cliProgress.Presets.shades_classic,
        );
        bar.start(t, 0, { info: '' });
      }
    },
    update(done, info = '') {
      if (bar) {
        bar.update(done, { info });
        return;
      }
      const decile = total > 0 ? Math.floor((done / total) * 10) : 10;
      if (decile > lastDecile) {
        lastDecile = decile;
        stream.write(`[train] ${name} ${done}/${total}${info ? ` ${info}` : ''}\n`);
      }
    },
    log(line) {
      finish();
      stream.write(`[train] ${line}\n`);
    },
    stop: finish,
  };
}
