/**
 * Tensors in system shared memory, for every transport (Triton's shared-memory extension): an input
 * or requested output whose parameters name `shared_memory_region` (+ `shared_memory_byte_size`,
 * optional `shared_memory_offset`) has its bytes in that region, in the raw tensor encoding
 * (raw-tensor.ts), instead of in the request or response body.
 *
 * Order of work per request: the decoder leaves such an input empty (`placeholder`); `prepare`
 * reads the inputs and checks the outputs' windows before inference (so a bad window costs no
 * compute); `writeOutputs` writes the outputs afterwards and marks them, and the encoders then
 * send those outputs with their name, datatype, shape and parameters but no data (as Triton).
 */
import { clip } from '../core/clip.js';
import {
  elementCount,
  elementSize,
  type InferenceRequest,
  type InferenceResponse,
  type Parameters,
  type Tensor,
  type TensorData,
} from '../core/tensor.js';
import { InferdError } from '../errors.js';
import type { SharedMemoryRegistry } from '../service/shared-memory.js';
import { dataToRaw, rawToData } from './raw-tensor.js';

const REGION = 'shared_memory_region';
const OFFSET = 'shared_memory_offset';
const SIZE = 'shared_memory_byte_size';

interface Window {
  region: string;
  offset: number;
  byteSize: number;
}

/** Outputs whose data went to shared memory: encoders send them without data. */
const WRITTEN = new WeakSet<Tensor>();

export function usesSharedMemory(parameters: Parameters | undefined): boolean {
  return parameters !== undefined && parameters[REGION] !== undefined;
}

export function inSharedMemory(t: Tensor): boolean {
  return WRITTEN.has(t);
}

/** The empty data a decoder gives an input that names a region (filled by `prepare`). */
export function placeholder(head: Omit<Tensor, 'data'>): Tensor {
  return { ...head, data: rawToData(head.datatype, [0], new Uint8Array(0), head.name) };
}

function windowOf(p: Parameters, what: string): Window {
  const region = p[REGION];
  const size = p[SIZE];
  const offset = p[OFFSET] ?? 0;
  if (typeof region !== 'string' || region === '') {
    throw new InferdError('shm_invalid', `${what}: '${REGION}' must be a region name`);
  }
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw new InferdError('shm_invalid', `${what}: '${SIZE}' must be given as a non-negative integer`);
  }
  if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) {
    throw new InferdError('shm_invalid', `${what}: '${OFFSET}' must be a non-negative integer`);
  }
  return { region, offset, byteSize: size };
}

export interface SharedMemoryPlan {
  /** Writes the outputs that name a region and marks them for the encoders. */
  writeOutputs(res: InferenceResponse): void;
}

const NOTHING: SharedMemoryPlan = { writeOutputs: () => undefined };

/**
 * Reads every input that names a region into its tensor, and checks every requested output's
 * window. `maxBytes` bounds the bytes read for one request (the body limit: shared memory is another
 * way to send a body). A no-op, without touching the registry, when nothing names a region.
 */
export function prepare(
  shm: SharedMemoryRegistry,
  req: InferenceRequest,
  maxBytes: number,
): SharedMemoryPlan {
  const outs = (req.outputs ?? []).filter((o) => usesSharedMemory(o.parameters));
  const ins = req.inputs.filter((t) => usesSharedMemory(t.parameters));
  if (outs.length === 0 && ins.length === 0) return NOTHING;
  let total = 0;
  for (const t of ins) {
    const what = `input '${clip(t.name)}'`;
    const w = windowOf(t.parameters!, what);
    const size = elementSize(t.datatype);
    if (size !== undefined && w.byteSize !== elementCount(t.shape) * size) {
      throw new InferdError(
        'shm_invalid',
        `${what}: shape [${t.shape.join(',')}] of ${t.datatype} is ${elementCount(t.shape) * size} bytes, but '${SIZE}' is ${w.byteSize}`,
      );
    }
    total += w.byteSize;
    if (total > maxBytes) {
      throw new InferdError(
        'payload_too_large',
        `the inputs in shared memory add up to more than ${maxBytes} bytes, the body limit (--max-body-bytes)`,
      );
    }
    t.data = rawToData(t.datatype, t.shape, shm.read(w.region, w.offset, w.byteSize, what), t.name);
  }
  const windows = new Map<string, Window>();
  for (const o of outs) {
    const what = `output '${clip(o.name)}'`;
    const w = windowOf(o.parameters!, what);
    shm.check(w.region, w.offset, w.byteSize, what);
    windows.set(o.name, w);
  }
  return {
    writeOutputs(res) {
      for (const t of res.outputs) {
        const w = windows.get(t.name);
        if (!w) continue;
        const raw = dataToRaw(t.datatype, t.data);
        if (raw.byteLength > w.byteSize) {
          throw new InferdError(
            'shm_invalid',
            `output '${clip(t.name)}' is ${raw.byteLength} bytes, more than its '${SIZE}' of ${w.byteSize}`,
          );
        }
        shm.write(w.region, w.offset, raw, `output '${clip(t.name)}'`);
        t.parameters = {
          ...t.parameters,
          [REGION]: w.region,
          [SIZE]: raw.byteLength,
          ...(w.offset > 0 ? { [OFFSET]: w.offset } : {}),
        };
        t.data = emptyLike(t);
        WRITTEN.add(t);
      }
    },
  };
}

function emptyLike(t: Tensor): TensorData {
  return rawToData(t.datatype, [0], new Uint8Array(0), t.name);
}
