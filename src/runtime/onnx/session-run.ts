/**
 * One ONNX Runtime session's operations, shared by the worker thread (worker.ts) and the inline
 * instance (inline.ts): creation with inferd's options, metadata, one execution on wire tensors,
 * and the calibration run (execution time against batch size, runtime/tuning.ts).
 */
import ort from 'onnxruntime-node';
import type { TensorSpec } from '../../core/model.js';
import type { ExecPoint } from '../tuning.js';
import {
  datatypeOf,
  ortType,
  stringsToWire,
  wireStrings,
  type WireBytes,
  type WireTensor,
} from './convert.js';
import type { SessionSettings } from './protocol.js';

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

export function createSession(s: SessionSettings): Promise<ort.InferenceSession> {
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
  return typeof s.model === 'string'
    ? ort.InferenceSession.create(s.model, options)
    : ort.InferenceSession.create(s.model, options);
}

export function specsOf(session: ort.InferenceSession): { inputs: TensorSpec[]; outputs: TensorSpec[] } {
  return {
    inputs: (session.inputMetadata as readonly Meta[]).map(spec),
    outputs: (session.outputMetadata as readonly Meta[]).map(spec),
  };
}

/** One execution; the outputs own their buffers (transferable). */
export async function runSession(
  session: ort.InferenceSession,
  inputs: WireTensor[],
  outputNames: string[],
): Promise<{ outputs: WireTensor[]; computeNs: number }> {
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
  return { outputs, computeNs };
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

/**
 * Calibration inputs for `rows` (0 = the model has no batch dim). With a `sample` (one row of the
 * config's first model_warmup entry, tuning.ts) its row is repeated `rows` times, so an image model
 * with dynamic height and width is timed at the size it serves; without one, synthetic inputs:
 * zeros (strings: a short word), the batch dim `rows`, other dynamic dims 1.
 */
function calibrationFeeds(
  session: ort.InferenceSession,
  rows: number,
  sample?: readonly WireTensor[],
): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const m of session.inputMetadata as readonly Meta[]) {
    const given = sample?.find((t) => t.name === m.name);
    if (given) {
      feeds[m.name] = repeatRow(given, rows);
      continue;
    }
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

/** The sample's one row (dim 0 = 1) repeated `rows` times along dim 0; as given when rows = 0. */
function repeatRow(t: WireTensor, rows: number): ort.Tensor {
  const type = ortType(t.datatype) as 'float32';
  if (rows === 0) {
    const data = t.datatype === 'BYTES' ? wireStrings(t.data as WireBytes) : t.data;
    return new ort.Tensor(type, data as Float32Array, t.shape);
  }
  const shape = [rows, ...t.shape.slice(1)];
  if (t.datatype === 'BYTES') {
    const row = wireStrings(t.data as WireBytes);
    return new ort.Tensor(type, Array.from({ length: rows }, () => row).flat() as never, shape);
  }
  const row = t.data as Float32Array;
  const out = new (row.constructor as Float32ArrayConstructor)(row.length * rows);
  for (let r = 0; r < rows; r++) out.set(row, r * row.length);
  return new ort.Tensor(type, out, shape);
}

/** Per batch size: up to 7 timed runs within ~40 ms (at least 3), after a warm-up pass; the fastest (µs). */
const CALIBRATE_RUNS = 7;
const CALIBRATE_MS_PER_SIZE = 40;
/** A batch size whose single run takes longer than this ends the calibration (larger ones would too). */
const CALIBRATE_MAX_RUN_MS = 50;
/** A batch size whose first timed run takes longer than this is not timed again. */
const CALIBRATE_LONG_RUN_MS = 10;

/**
 * Times the session, one batch size after another (0 = no batch dim), on synthetic inputs or on
 * `sample`'s row repeated (calibrationFeeds).
 */
export async function calibrateSession(
  session: ort.InferenceSession,
  batches: number[],
  sample?: readonly WireTensor[],
): Promise<ExecPoint[]> {
  const points: { rows: number; us: number }[] = [];
  for (const rows of batches) {
    const feeds = calibrationFeeds(session, rows, sample);
    // One untimed run first: ORT sizes its arenas and caches per shape on the first run. Done per
    // size, not for all sizes up front, so the sizes past CALIBRATE_MAX_RUN_MS never run at all
    // (the OCR recogniser's 32-row warm-up alone took ~1.2 s of a 4 s start).
    await session.run(feeds);
    const times: number[] = [];
    const start = performance.now();
    while (
      times.length < CALIBRATE_RUNS &&
      (times.length < 3 || performance.now() - start < CALIBRATE_MS_PER_SIZE) &&
      // A run this long is timed once: the tuner's thresholds are 0.1–5 ms apart, not percent.
      !(times.length > 0 && times[0]! > CALIBRATE_LONG_RUN_MS * 1000)
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
  return points;
}
