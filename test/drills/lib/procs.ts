/**
 * Every process a drill starts (HAProxy, inferd replicas) is registered here and killed with
 * SIGKILL when the drill ends, fails, or the drill process itself exits or is interrupted: a
 * failed drill must not leave servers holding ports and CPU on a shared machine.
 */
import type { ChildProcess } from 'node:child_process';

const live = new Set<ChildProcess>();
let hooked = false;

function hook(): void {
  if (hooked) return;
  hooked = true;
  process.once('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      killAll();
      process.exit(130);
    });
  }
}

export function track(proc: ChildProcess): ChildProcess {
  hook();
  live.add(proc);
  proc.once('exit', () => live.delete(proc));
  return proc;
}

/** SIGKILL to every process still running (by its own pid, never by name). */
export function killAll(): void {
  for (const p of live) {
    if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  }
  live.clear();
}

export function exitOf(proc: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (proc.exitCode !== null || proc.signalCode !== null) {
    return Promise.resolve({ code: proc.exitCode, signal: proc.signalCode });
  }
  return new Promise((r) => proc.once('exit', (code, signal) => r({ code, signal })));
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
