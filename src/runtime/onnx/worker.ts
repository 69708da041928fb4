/**
 * One ONNX Runtime session in a worker thread. `session.run` blocks its thread for the whole
 * inference (onnxruntime-node runs the native call synchronously), so it runs here and never on the main thread.
 * Contract: executions run one at a time in the order they arrive. The backend may send the next
 * `infer` while one runs (double buffering); the binding's `run` is synchronous inside a
 * setImmediate, so a second message only queues behind the first.
 */
import { execFileSync } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import type ort from 'onnxruntime-node';
import { transferables, type WireTensor } from './convert.js';
import type { FromWorker, SessionSettings, ToWorker } from './protocol.js';
import { calibrateSession, createSession, runSession, specsOf } from './session-run.js';

if (!parentPort) throw new Error('worker.ts must run in a worker thread');
const port = parentPort;
let session: ort.InferenceSession | undefined;

function post(msg: FromWorker, transfer: ArrayBuffer[] = []): void {
  port.postMessage(msg, transfer);
}

/**
 * Lowers this thread's scheduling priority. Linux scheduling policy and nice value are per thread,
 * and the threads ONNX Runtime starts for the session (created synchronously on this thread)
 * inherit them. `idle` uses SCHED_IDLE through util-linux `chrt` (Node has no binding for
 * sched_setscheduler) and falls back to nice 19 where chrt is missing. Elsewhere than Linux the
 * thread keeps its priority: this is an optimisation, not a contract.
 */
function lowerThreadPriority(priority: SessionSettings['threadPriority']): void {
  if (priority === 'normal' || process.platform !== 'linux') return;
  let tid: number;
  try {
    tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
  } catch {
    return;
  }
  if (!Number.isInteger(tid) || tid <= 0) return;
  if (priority === 'idle') {
    try {
      execFileSync('chrt', ['--idle', '--pid', '0', String(tid)], { stdio: 'ignore', timeout: 5000 });
      return;
    } catch {
      // no chrt: the lowest nice value is the nearest thing
    }
  }
  try {
    setPriority(tid, priority === 'idle' ? 19 : 10);
  } catch {
    // not permitted here: keep the priority
  }
}

async function load(s: SessionSettings): Promise<void> {
  lowerThreadPriority(s.threadPriority);
  session = await createSession(s);
  post({ type: 'loaded', ...specsOf(session) });
}

async function infer(id: number, inputs: WireTensor[], outputNames: string[]): Promise<void> {
  if (!session) throw new Error('session not loaded');
  const { outputs, computeNs } = await runSession(session, inputs, outputNames);
  post({ type: 'result', id, outputs, computeNs }, transferables(outputs));
}

async function calibrate(batches: number[], sample?: WireTensor[]): Promise<void> {
  if (!session) throw new Error('session not loaded');
  post({ type: 'calibrated', points: await calibrateSession(session, batches, sample) });
}

port.on('message', (msg: ToWorker) => {
  switch (msg.type) {
    case 'load':
      load(msg.settings).catch((err: unknown) =>
        post({ type: 'load_failed', message: err instanceof Error ? err.message : String(err) }),
      );
      break;
    case 'infer':
      infer(msg.id, msg.inputs, msg.outputNames).catch((err: unknown) =>
        post({ type: 'failed', id: msg.id, message: err instanceof Error ? err.message : String(err) }),
      );
      break;
    case 'calibrate':
      calibrate(msg.batches, msg.sample).catch((err: unknown) =>
        post({ type: 'calibrate_failed', message: err instanceof Error ? err.message : String(err) }),
      );
      break;
    case 'unload': {
      const s = session;
      session = undefined;
      // Always release: sessions that are dropped without release() leak native memory (onnxruntime issue: RSS grows with every unreleased session).
      void (s ? s.release() : Promise.resolve()).finally(() => post({ type: 'unloaded' }));
      break;
    }
  }
});
