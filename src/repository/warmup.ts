/**
 * Warm-up at load (Triton's `model_warmup`): requests run on every instance of a version before it
 * is READY, so that the first client request does not pay for ONNX Runtime's first-run allocations
 * (the spam model's first request took ~55 ms, the next 5–7 ms: bench/results/warmup-and-cache.md).
 *
 * - `model_warmup` given: each sample runs `count` times (0 reads as 1) on every instance; a
 *   failure fails the version's load, as in Triton.
 * - none given: one synthetic sample from the metadata (zeros, a short text for BYTES, dynamic dims
 *   as 1, batch 1); a failure only logs a warning. Pipelines get none (they need real input, e.g.
 *   an image; the models they call warm themselves) and may not configure one (their calls reach
 *   models that may still be loading; Triton refuses it for ensembles the same way).
 *
 * Warm-up calls the backend directly, not the scheduler: it is not a request, and is not counted
 * in statistics or request metrics (the load log line says what ran).
 */
import { randomFillSync } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  BytesData,
  elementCount,
  isDatatype,
  TYPED_ARRAY,
  type Datatype,
  type Tensor,
} from '../core/tensor.js';
import type { BackendMetadata, TensorSpec } from '../core/model.js';
import type { ModelConfig, WarmupSample } from '../core/model-config.js';
import { InferdError } from '../errors.js';
import type { Backend } from '../runtime/backend.js';

/** The text of a synthetic BYTES element: short, valid UTF-8, like a word of a real request. */
const SYNTHETIC_TEXT = 'warm-up';
/** Largest warm-up tensor, in bytes: a sample is a request the operator wrote, bounded as one. */
const MAX_WARMUP_TENSOR_BYTES = 256 * 1024 * 1024;

export interface WarmupOutcome {
  /** 'configured' (model_warmup), 'synthetic', or 'none' (a pipeline, or synthetic warm-up off). */
  kind: 'configured' | 'synthetic' | 'none';
  /** Backend executions run. */
  executions: number;
  ms: number;
}

/** The samples a version warms with; none for pipelines or when synthetic warm-up is off. */
export function warmupSamples(
  cfg: ModelConfig,
  meta: BackendMetadata,
  synthetic: boolean,
): { kind: WarmupOutcome['kind']; samples: WarmupSample[] } {
  const pipeline = cfg.backend === 'pipeline' || meta.platform === 'pipeline' || meta.platform === 'ensemble';
  if (cfg.model_warmup?.length) {
    if (pipeline) {
      throw new InferdError(
        'invalid_config',
        `model '${cfg.name}': a pipeline cannot have model_warmup (its calls may reach models still loading); give model_warmup to the models it calls`,
      );
    }
    return { kind: 'configured', samples: cfg.model_warmup };
  }
  if (pipeline || !synthetic) return { kind: 'none', samples: [] };
  const optional = new Set((cfg.input ?? []).filter((i) => i.optional).map((i) => i.name));
  const batched = cfg.max_batch_size > 0;
  const inputs: WarmupSample['inputs'] = {};
  for (const spec of meta.inputs) {
    if (optional.has(spec.name)) continue;
    const dims = (batched ? spec.shape.slice(1) : spec.shape).map((d) => (d < 0 ? 1 : d));
    inputs[spec.name] = { data_type: spec.datatype, dims, zero_data: true };
  }
  return { kind: 'synthetic', samples: [{ name: 'synthetic', batch_size: 1, inputs, count: 1 }] };
}

/**
 * One row of the config's first model_warmup sample (shape [1, ...dims] when the model batches),
 * for the ONNX backend's calibration (runtime/tuning.ts): a model with dynamic height and width is
 * then timed at the size its operator says it serves, not at 1×1. Undefined without a configured
 * sample, or when it cannot be built (the warm-up reports that, naming the sample).
 */
export async function calibrationSample(cfg: ModelConfig, versionDir: string): Promise<Tensor[] | undefined> {
  const sample = cfg.model_warmup?.[0];
  if (!sample) return undefined;
  const batched = cfg.max_batch_size > 0;
  try {
    const out: Tensor[] = [];
    for (const [name, input] of Object.entries(sample.inputs)) {
      const datatype = normalise(input.data_type);
      const rowElements = elementCount(input.dims);
      const size = datatype === 'BYTES' ? 4 : TYPED_ARRAY[datatype].BYTES_PER_ELEMENT;
      if (rowElements * size > MAX_WARMUP_TENSOR_BYTES) return undefined;
      const file = input.input_data_file;
      const row = file !== undefined ? await readRow(versionDir, file, datatype, rowElements) : undefined;
      out.push({
        name,
        datatype,
        shape: batched ? [1, ...input.dims] : [...input.dims],
        data: tensorData(datatype, rowElements, 1, row, input.random_data === true, false),
      });
    }
    return out;
  } catch {
    return undefined;
  }
}

/**
 * Runs the samples: each `count` times, each time on every instance at once (`concurrency` calls:
 * the backend gives each call the least busy instance). Throws `model_load_failed` naming the
 * sample when one fails.
 */
export async function runWarmup(opts: {
  backend: Backend;
  config: ModelConfig;
  versionDir: string;
  concurrency: number;
  samples: WarmupSample[];
  /** Synthetic samples write text into BYTES zeros; configured ones keep Triton's empty elements. */
  synthetic: boolean;
}): Promise<number> {
  const { backend, config, samples } = opts;
  const specs = new Map(backend.metadata.inputs.map((s) => [s.name, s]));
  let executions = 0;
  for (const sample of samples) {
    try {
      const build = await sampleBuilder(sample, config, specs, opts.versionDir, opts.synthetic);
      for (let run = 0; run < Math.max(1, sample.count); run += 1) {
        // Fresh tensors per call: the backend owns (and may transfer) the buffers it is given.
        await Promise.all(
          Array.from({ length: Math.max(1, opts.concurrency) }, () => backend.infer(build())),
        );
        executions += Math.max(1, opts.concurrency);
      }
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      throw new InferdError(
        'model_load_failed',
        `model '${config.name}' warm-up sample '${sample.name}' failed: ${why}`,
        {
          cause: err,
        },
      );
    }
  }
  return executions;
}

/** Checks a sample against the model once and returns a maker of its tensors. */
async function sampleBuilder(
  sample: WarmupSample,
  cfg: ModelConfig,
  specs: ReadonlyMap<string, TensorSpec>,
  versionDir: string,
  synthetic: boolean,
): Promise<() => Tensor[]> {
  const batched = cfg.max_batch_size > 0;
  const batch = Math.max(1, sample.batch_size);
  if (!batched && batch > 1)
    throw new InferdError(
      'invalid_config',
      `batch_size ${batch} needs a model that batches (max_batch_size > 0)`,
    );
  if (batched && batch > cfg.max_batch_size) {
    throw new InferdError(
      'invalid_config',
      `batch_size ${batch} exceeds max_batch_size ${cfg.max_batch_size}`,
    );
  }
  const makers: Array<() => Tensor> = [];
  for (const [name, input] of Object.entries(sample.inputs)) {
    const spec = specs.get(name);
    if (!spec) throw new InferdError('invalid_config', `the model has no input '${name}'`);
    const datatype = normalise(input.data_type);
    if (datatype !== spec.datatype) {
      throw new InferdError(
        'invalid_config',
        `input '${name}' is ${spec.datatype}, the sample says ${input.data_type}`,
      );
    }
    const shape = batched ? [batch, ...input.dims] : [...input.dims];
    const declared = spec.shape;
    if (declared.length !== shape.length || declared.some((d, i) => d >= 0 && d !== shape[i])) {
      throw new InferdError(
        'invalid_config',
        `input '${name}' shape [${shape}] does not fit the model's [${declared}]`,
      );
    }
    const rowElements = elementCount(input.dims);
    const size = datatype === 'BYTES' ? 4 : TYPED_ARRAY[datatype].BYTES_PER_ELEMENT;
    if (rowElements * batch * size > MAX_WARMUP_TENSOR_BYTES) {
      throw new InferdError(
        'invalid_config',
        `input '${name}' is larger than ${MAX_WARMUP_TENSOR_BYTES} bytes`,
      );
    }
    const file = input.input_data_file;
    const row = file !== undefined ? await readRow(versionDir, file, datatype, rowElements) : undefined;
    makers.push(() => ({
      name,
      datatype,
      shape,
      data: tensorData(datatype, rowElements, batch, row, input.random_data === true, synthetic),
    }));
  }
  return () => makers.map((m) => m());
}

function normalise(dataType: string): Datatype {
  const t = dataType.toUpperCase().replace(/^TYPE_/, '');
  const d = t === 'STRING' ? 'BYTES' : t;
  if (!isDatatype(d)) throw new InferdError('invalid_config', `unknown data_type '${dataType}'`);
  return d;
}

/** One batch row from `<model>/warmup/<file>`: raw little-endian data, or length-prefixed BYTES. */
async function readRow(
  versionDir: string,
  file: string,
  datatype: Datatype,
  elements: number,
): Promise<Uint8Array | BytesData> {
  const path = join(dirname(versionDir), 'warmup', file);
  const info = await stat(path).catch(() => undefined);
  if (!info?.isFile()) throw new InferdError('invalid_config', `warm-up file warmup/${file} not found`);
  if (info.size > MAX_WARMUP_TENSOR_BYTES)
    throw new InferdError('invalid_config', `warmup/${file} is too large`);
  const bytes = new Uint8Array(await readFile(path));
  if (datatype !== 'BYTES') {
    const want = elements * TYPED_ARRAY[datatype].BYTES_PER_ELEMENT;
    if (bytes.byteLength !== want) {
      throw new InferdError(
        'invalid_config',
        `warmup/${file} has ${bytes.byteLength} bytes; ${elements} ${datatype} elements need ${want}`,
      );
    }
    return bytes;
  }
  // Triton's serialisation of TYPE_STRING: each element a 4-byte little-endian length, then its bytes.
  const parts: Uint8Array[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = 0; at < bytes.byteLength;) {
    if (at + 4 > bytes.byteLength) break;
    const n = view.getUint32(at, true);
    if (at + 4 + n > bytes.byteLength) break;
    parts.push(bytes.subarray(at + 4, at + 4 + n));
    at += 4 + n;
  }
  if (parts.length !== elements) {
    throw new InferdError(
      'invalid_config',
      `warmup/${file} holds ${parts.length} length-prefixed elements; the input needs ${elements}`,
    );
  }
  return BytesData.fromArrays(parts);
}

/** A tensor's data: the row repeated `batch` times, or zeros, or random bytes (BYTES: zeros). */
function tensorData(
  datatype: Datatype,
  rowElements: number,
  batch: number,
  row: Uint8Array | BytesData | undefined,
  random: boolean,
  synthetic: boolean,
): Tensor['data'] {
  const n = rowElements * batch;
  if (datatype === 'BYTES') {
    if (row instanceof BytesData) {
      const items: Uint8Array[] = [];
      for (let b = 0; b < batch; b += 1) for (let i = 0; i < row.length; i += 1) items.push(row.at(i));
      return BytesData.fromArrays(items);
    }
    // Triton's zero data for strings is empty elements; a synthetic sample sends a short text.
    return BytesData.fromStrings(new Array<string>(n).fill(synthetic ? SYNTHETIC_TEXT : ''));
  }
  const Ctor = TYPED_ARRAY[datatype];
  const out = new Ctor(n);
  const bytes = new Uint8Array(out.buffer);
  if (row instanceof Uint8Array) for (let b = 0; b < batch; b += 1) bytes.set(row, b * row.byteLength);
  else if (random) {
    randomFillSync(bytes);
    // Random bit patterns can be NaN or a non-boolean byte; keep floats finite and BOOL 0/1.
    if (out instanceof Float32Array || out instanceof Float64Array)
      for (let i = 0; i < n; i += 1) out[i] = Math.random();
    if (datatype === 'BOOL') for (let i = 0; i < n; i += 1) bytes[i]! &= 1;
  }
  return out;
}
