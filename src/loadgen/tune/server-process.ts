/**
 * One `inferd serve` child process for one tuning candidate: loopback only, auth off (nothing but
 * this sweep can reach it), explicit model control with just the tuned model loaded, its own data
 * folder. Ready when the model answers ready; a candidate the server refuses ends with the reason.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from '../free-port.js';

export interface TuneServer {
  url: string;
  stop(): Promise<void>;
}

/** Longest wait for the model to load (ONNX session creation of a large model takes seconds). */
const READY_TIMEOUT_MS = Number(process.env.INFERD_TUNE_READY_MS ?? 120_000);

function stopChild(proc: ChildProcess): Promise<void> {
  return new Promise((res) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return res();
    const kill = setTimeout(() => proc.kill('SIGKILL'), 15_000);
    proc.once('exit', () => {
      clearTimeout(kill);
      res();
    });
    proc.kill('SIGTERM');
  });
}

export async function startTuneServer(
  bin: string,
  repository: string,
  model: string,
  dataDir: string,
): Promise<TuneServer> {
  const port = await freePort();
  const args = [bin, 'serve', '--host', '127.0.0.1', '--http-port', String(port), '--grpc-port', '0'];
  args.push('--model-repository', repository, '--data-dir', dataDir, '--auth', 'off');
  args.push('--model-control-mode', 'explicit', '--load-model', model, '--log-level', 'warn');
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => {
    if (err.length < 64 * 1024) err += d.toString();
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null)
      throw new Error(`the server exited (${proc.exitCode}): ${err.trim().slice(-600)}`);
    try {
      const res = await fetch(`${url}/v2/models/${encodeURIComponent(model)}/ready`);
      if (res.ok) return { url, stop: () => stopChild(proc) };
      // Not ready: a model whose load failed says so in the index (with the reason).
      const index = (await fetch(`${url}/v2/repository/index`, { method: 'POST' }).then((r) =>
        r.json(),
      )) as Array<{
        name: string;
        state: string;
        reason?: string;
      }>;
      const row = index.find((r) => r.name === model && r.state === 'UNAVAILABLE');
      if (row) {
        await stopChild(proc);
        throw new Error(`model '${model}' did not load: ${row.reason ?? 'no reason given'}`);
      }
    } catch (e) {
      if (e instanceof Error && /did not load/.test(e.message)) throw e;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  await stopChild(proc);
  throw new Error(
    `model '${model}' was not ready after ${READY_TIMEOUT_MS / 1000} s: ${err.trim().slice(-600)}`,
  );
}
