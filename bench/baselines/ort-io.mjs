// Shared by the baselines: JSON OIP tensors ↔ onnxruntime-node tensors, for the datatypes the
// benchmark models use (FP32, FP64, INT32, INT64, BOOL, BYTES). Deliberately what a developer writes
// first: Array.from / typed-array constructors, no pooling.
import ort from 'onnxruntime-node';

const ORT = {
  FP32: 'float32',
  FP64: 'float64',
  INT32: 'int32',
  INT64: 'int64',
  BOOL: 'bool',
  BYTES: 'string',
};
const OIP = Object.fromEntries(Object.entries(ORT).map(([k, v]) => [v, k]));
const ARRAY = { FP32: Float32Array, FP64: Float64Array, INT32: Int32Array, BOOL: Uint8Array };

const flat = (d) => (Array.isArray(d) ? d.flat(Infinity) : [d]);

/** One JSON OIP input → ort.Tensor. */
export function toOrt(input) {
  const type = ORT[input.datatype];
  if (!type) throw new Error(`datatype ${input.datatype} is not supported by the baseline`);
  const values = flat(input.data);
  let data;
  if (input.datatype === 'BYTES') data = values.map(String);
  else if (input.datatype === 'INT64') data = BigInt64Array.from(values, (v) => BigInt(v));
  else data = ARRAY[input.datatype].from(values, Number);
  return new ort.Tensor(type, data, input.shape);
}

/** ort.Tensor → JSON OIP output. */
export function fromOrt(name, t) {
  const data =
    t.type === 'int64'
      ? Array.from(t.data, Number)
      : t.type === 'bool'
        ? Array.from(t.data, Boolean)
        : Array.from(t.data);
  return { name, datatype: OIP[t.type] ?? t.type, shape: [...t.dims], data };
}

/** inferd's default intra-op policy (cpu quota / instances); the baselines take the same number. */
export function sessionOptions(threads) {
  return {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
  };
}

/** A one-row JSON OIP request repeated to `rows` rows along dim 0. */
export function batchOf(request, rows) {
  return request.inputs.map((input) => {
    const values = flat(input.data);
    const data = [];
    for (let r = 0; r < rows; r++) data.push(...values);
    return { ...input, shape: [rows * input.shape[0], ...input.shape.slice(1)], data };
  });
}

/** `--name value` flags of a baseline's command line. */
export function flags(argv, defaults) {
  const out = { ...defaults };
  for (let i = 0; i < argv.length; i += 2) out[argv[i].replace(/^--/, '')] = argv[i + 1];
  return out;
}
