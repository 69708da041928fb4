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
import {
  datatypeOf,
  ortType,
  stringsToWire,
  transferables,
  wireStrings,
  type WireBytes,
  type WireTensor,
} from './convert.js';
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
    // Fatal only: at its default level ORT also writes every failed run to stderr (one line per bad
    // request, which any client could repeat). Failures reach inferd as errors: client faults are
    // answered (run-errors.ts), server faults and load failures are logged with ORT's text.
    logSeverityLevel: 4,
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

/** Typed-array constructors for ONNX Runtime's tensor type names (calibration inputs). */
const ARRAYS: Record<string, new (n: number) => ArrayLike<unknown>> = {
  float32: Float32Array,
  float64: Float64Array,
  float16: Uint16Array,
  int8: Int8Array,
  uint8: Uint8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
  int64: BigInt64Array,
  uint64: BigUint64Array,
  bool: Uint8Array,
};

/** Synthetic inputs: zeros (strings: a short word), the batch dim `rows`, other dynamic dims 1. */
function syntheticFeeds(rows: number): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const m of session!.inputMetadata as readonly Meta[]) {
    const dims = (m.shape ?? []).map((d, i) =>
      i === 0 && rows > 0 ? rows : typeof d === 'number' && d >= 0 ? d : 1,
    );
    const n = dims.reduce((a, b) => a * b, 1);
    const type = m.type ?? 'float32';
    const data =
      type === 'string' ? Array<string>(n).fill('calibration') : new (ARRAYS[type] ?? Float32Array)(n);
    feeds[m.name] = new ort.Tensor(type as 'float32', data as Float32Array, dims);
  }
  return feeds;
}

/** Per batch size: up to 7 timed runs within ~40 ms (at least 3), after a warm-up pass; the fastest (µs). */
const CALIBRATE_RUNS = 7;
const CALIBRATE_MS_PER_SIZE = 40;
/** A batch size whose single run takes longer than this ends the calibration (larger ones would too). */
const CALIBRATE_MAX_RUN_MS = 50;

async function calibrate(batches: number[]): Promise<void> {
  if (!session) throw new Error('session not loaded');
  const points: { rows: number; us: number }[] = [];
  // Warm-up over every size first: ORT sizes its arenas and caches per shape on the first runs.
  for (const rows of batches) await session.run(syntheticFeeds(rows));
  for (const rows of batches) {
    const feeds = syntheticFeeds(rows);
    const times: number[] = [];
    const start = performance.now();
    while (
      times.length < CALIBRATE_RUNS &&
      (times.length < 3 || performance.now() - start < CALIBRATE_MS_PER_SIZE)
    ) {
      const t0 = performance.now();
      await session.run(feeds);
      times.push((performance.now() - t0) * 1000);
    }
    // The fastest run: other threads (models loading beside this one, other processes) only ever
    // add time, and the median still caught them on a shared machine (spam, 32 rows: 12.5 ms
    // against ~1.7 ms).
    const us = Math.min(...times);
    points.push({ rows: Math.max(1, rows), us });
    if (us > CALIBRATE_MAX_RUN_MS * 1000) break;
  }
  post({ type: 'calibrated', points });
}

async function infer(id: number, inputs: WireTensor[], outputNames: string[]): Promise<void> {
  if (!session) throw new Error('session not loaded');
  const feeds: Record<string, ort.Tensor> = {};
  for (const t of inputs) {
    const data = t.datatype === 'BYTES' ? wireStrings(t.data as WireBytes) : t.data;
    feeds[t.name] = new ort.Tensor(ortType(t.datatype) as 'float32', data as Float32Array, t.shape);
  }
  const start = process.hrtime.bigint();
  const results = await session.run(feeds, outputNames);
  const computeNs = Number(process.hrtime.bigint() - start);
  const outputs: WireTensor[] = outputNames.map((name) => {
    const r = results[name];
    if (!r) throw new Error(`the model produced no output '${name}'`);
    const datatype = datatypeOf(r.type);
    return {
      name,
      datatype,
      shape: [...r.dims],
      data: datatype === 'BYTES' ? stringsToWire(r.data as string[]) : (r.data as WireTensor['data']),
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
    case 'calibrate':
      calibrate(msg.batches).catch((err: unknown) =>
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
