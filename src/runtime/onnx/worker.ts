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
import ort from 'onnxruntime-node';
import type { TensorSpec } from '../../core/model.js';
import { datatypeOf, ortType, transferables, type WireTensor } from './convert.js';
import type { FromWorker, SessionSettings, ToWorker } from './protocol.js';

if (!parentPort) throw new Error('worker.ts must run in a worker thread');
const port = parentPort;
let session: ort.InferenceSession | undefined;

function post(msg: FromWorker, transfer: ArrayBuffer[] = []): void {
  port.postMessage(msg, transfer);
}

type Meta = { name: string; isTensor: boolean; type?: string; shape?: ReadonlyArray<number | string> };

function spec(m: Meta): TensorSpec {
  if (!m.isTensor || m.type === undefined) {
    throw new Error(`'${m.name}' is not a tensor (sequences and maps are not supported)`);
  }
  return {
    name: m.name,
    datatype: datatypeOf(m.type),
    shape: (m.shape ?? []).map((d) => (typeof d === 'number' && d >= 0 ? d : -1)),
  };
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
  const options: ort.InferenceSession.SessionOptions = {
    executionProviders: [s.executionProvider],
    graphOptimizationLevel: s.graphOptimizationLevel,
    intraOpNumThreads: s.intraOpNumThreads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    // Spinning threads burn the cores that other workers and the event loop need.
    extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
  };
  session =
    typeof s.model === 'string'
      ? await ort.InferenceSession.create(s.model, options)
      : await ort.InferenceSession.create(s.model, options);
  const inputs = (session.inputMetadata as readonly Meta[]).map(spec);
  const outputs = (session.outputMetadata as readonly Meta[]).map(spec);
  post({ type: 'loaded', inputs, outputs });
}

async function infer(id: number, inputs: WireTensor[], outputNames: string[]): Promise<void> {
  if (!session) throw new Error('session not loaded');
  const feeds: Record<string, ort.Tensor> = {};
  for (const t of inputs) {
    feeds[t.name] = new ort.Tensor(ortType(t.datatype) as 'float32', t.data as Float32Array, t.shape);
  }
  const start = process.hrtime.bigint();
  const results = await session.run(feeds, outputNames);
  const computeNs = Number(process.hrtime.bigint() - start);
  const outputs: WireTensor[] = outputNames.map((name) => {
    const r = results[name];
    if (!r) throw new Error(`the model produced no output '${name}'`);
    return {
      name,
      datatype: datatypeOf(r.type),
      shape: [...r.dims],
      data: r.data as WireTensor['data'],
    };
  });
  post({ type: 'result', id, outputs, computeNs }, transferables(outputs));
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
    case 'unload': {
      const s = session;
      session = undefined;
      // Always release: sessions that are dropped without release() leak native memory (onnxruntime issue: RSS grows with every unreleased session).
      void (s ? s.release() : Promise.resolve()).finally(() => post({ type: 'unloaded' }));
      break;
    }
  }
});
