/** Runs `inferd serve` as a child process (the real CLI), for crash and multi-replica tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from '../../src/loadgen/free-port.js';

export { freePort };

export interface Child {
  proc: ChildProcess;
  url: string;
  stderr: () => string;
}

export async function spawnServer(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Child> {
  const port = await freePort();
  const proc = spawn(
    process.execPath,
    [
      'bin/inferd.js',
      'serve',
      '--host',
      '127.0.0.1',
      '--http-port',
      String(port),
      '--grpc-port',
      '0',
      ...args,
    ],
    { env: { ...process.env, INFERD_LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 600; i++) {
    if (proc.exitCode !== null) throw new Error(`inferd exited with ${proc.exitCode}: ${err}`);
    try {
      if ((await fetch(url + '/v2/health/ready')).status === 200) return { proc, url, stderr: () => err };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  proc.kill('SIGKILL');
  throw new Error(`inferd did not become ready: ${err}`);
}

export function exited(proc: ChildProcess): Promise<void> {
  return proc.exitCode !== null || proc.signalCode !== null
    ? Promise.resolve()
    : new Promise((r) => proc.once('exit', () => r()));
}
