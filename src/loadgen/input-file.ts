/**
 * `inferd bench --input FILE`: the requests to send, read from JSON in one of two formats.
 *
 * - An Open Inference Protocol request body (`{"inputs": [...]}`), or a JSON array of them, checked
 *   by the server's own decoder.
 * - perf_analyzer's real-input-data format (`{"data": [{"INPUT0": [...], "INPUT1": {"content": [...],
 *   "shape": [...]}, "INPUT2": {"b64": "..."}}, ...]}`), so that a file written for Triton's
 *   perf_analyzer works unchanged. As there, values are row-major, a `shape` leaves out the batch
 *   dimension, b64 is the raw little-endian encoding (BYTES elements with their 4-byte lengths), and
 *   each entry is one batch-1 request. Its `validation_data` (expected outputs, entry for entry, in
 *   the same forms) is read too and checked on every answer (output-check.ts).
 *
 * The requests are sent round-robin, as perf_analyzer does.
 */
import { readFile } from 'node:fs/promises';
import { TYPED_ARRAY, elementCount, type Tensor } from '../core/tensor.js';
import { rawToData } from '../protocol/raw-tensor.js';
import { decodeJsonRequest } from '../protocol/rest/json-codec.js';
import { valuesToData } from '../protocol/tensor-values.js';
import type { TensorSpec } from '../core/model.js';
import type { ModelMetadata } from '../core/model.js';
import type { ClientRequest } from '../oip-client/types.js';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

export interface RequestSource {
  path: string;
  model: string;
  modelVersion?: string;
  /** Asked only for the perf_analyzer format, whose entries name tensors without their datatype. */
  metadata: () => Promise<ModelMetadata>;
}

export interface LoadedRequests {
  requests: ClientRequest[];
  /** perf_analyzer's validation_data: the outputs expected in the answer to requests[i]. */
  expected?: Tensor[][];
}

export async function loadRequests(src: RequestSource): Promise<LoadedRequests> {
  const fail = (what: string): Error => new Error(`--input ${src.path}: ${what}`);
  let body: unknown;
  try {
    body = JSON.parse(await readFile(src.path, 'utf8'));
  } catch (err) {
    throw fail(err instanceof Error ? err.message : String(err));
  }
  const oip = (b: unknown, where: string): ClientRequest => {
    try {
      const { signal: _s, deadlineMs: _d, ...request } = decodeJsonRequest(b, src.model, src.modelVersion);
      return request;
    } catch (err) {
      throw fail(`${where}${(err as Error).message}`);
    }
  };
  if (Array.isArray(body)) {
    if (body.length === 0) throw fail('the array holds no request');
    return { requests: body.map((b, i) => oip(b, `request ${i}: `)) };
  }
  if (!isObject(body) || !('data' in body)) return { requests: [oip(body, '')] };
  if (!Array.isArray(body.data) || body.data.length === 0) {
    throw fail("'data' must be a non-empty array of entries, one per request");
  }
  const meta = await src.metadata();
  const read = (list: unknown[], field: string, specs: TensorSpec[]): Tensor[][] =>
    list.map((entry, i) => {
      try {
        return perfAnalyzerEntry(entry, specs, field === 'data');
      } catch (err) {
        throw fail(`${field}[${i}]: ${(err as Error).message}`);
      }
    });
  const requests = read(body.data, 'data', meta.inputs).map((inputs) => ({
    modelName: src.model,
    modelVersion: src.modelVersion,
    inputs,
  }));
  if (body.validation_data === undefined) return { requests };
  if (!Array.isArray(body.validation_data) || body.validation_data.length !== body.data.length) {
    throw fail(`'validation_data' must be an array with one entry per 'data' entry (${body.data.length})`);
  }
  return { requests, expected: read(body.validation_data, 'validation_data', meta.outputs) };
}

/**
 * One entry: every input (all are required) or, in validation_data, the outputs to check (any of
 * the model's outputs).
 */
function perfAnalyzerEntry(entry: unknown, specs: TensorSpec[], inputs: boolean): Tensor[] {
  const kind = inputs ? 'input' : 'output';
  if (Array.isArray(entry)) {
    throw new Error(
      'sequence data streams (arrays of entries) are not supported: inferd has no sequence batcher',
    );
  }
  if (!isObject(entry)) throw new Error(`an entry must be an object of ${kind} name → values`);
  for (const name of Object.keys(entry)) {
    if (!specs.some((s) => s.name === name)) {
      throw new Error(
        `the model has no ${kind} '${name}' (${kind}s: ${specs.map((s) => s.name).join(', ')})`,
      );
    }
  }
  const missing = inputs ? specs.find((spec) => !(spec.name in entry)) : undefined;
  if (missing) throw new Error(`input '${missing.name}' is missing`);
  return specs.filter((spec) => spec.name in entry).map((spec) => perfAnalyzerTensor(spec, entry[spec.name]));
}

/** One tensor: a flat list, `{"b64"}`, or `{"content": list | {"b64"}, "shape"?}`. */
function perfAnalyzerTensor(spec: TensorSpec, value: unknown): Tensor {
  const notATensor = (): Error =>
    new Error(
      `tensor '${spec.name}': expected a list of values, {"b64": ...} or {"content": ..., "shape": ...}`,
    );
  let content = value;
  let given: number[] | undefined;
  if (isObject(value) && 'content' in value) {
    content = value.content;
    if (value.shape !== undefined) {
      const s = value.shape;
      if (!Array.isArray(s) || !s.every((d) => Number.isInteger(d) && (d as number) >= 0)) {
        throw new Error(`tensor '${spec.name}': 'shape' must be an array of non-negative integers`);
      }
      given = s as number[];
    }
  }
  if (isObject(content)) {
    if (typeof content.b64 !== 'string') {
      throw notATensor();
    }
    const raw = new Uint8Array(Buffer.from(content.b64, 'base64'));
    const count = spec.datatype === 'BYTES' ? countBytesElements(raw, spec.name) : rawCount(spec, raw);
    const shape = resolveShape(spec, given, count);
    return {
      name: spec.name,
      datatype: spec.datatype,
      shape,
      data: rawToData(spec.datatype, shape, raw, spec.name),
    };
  }
  if (!Array.isArray(content)) {
    throw notATensor();
  }
  const values = content.flat(Infinity);
  const shape = resolveShape(spec, given, values.length);
  return {
    name: spec.name,
    datatype: spec.datatype,
    shape,
    data: valuesToData(spec.datatype, values, spec.name),
  };
}

function rawCount(spec: TensorSpec, raw: Uint8Array): number {
  const size = TYPED_ARRAY[spec.datatype as Exclude<TensorSpec['datatype'], 'BYTES'>].BYTES_PER_ELEMENT;
  if (raw.byteLength % size !== 0) {
    throw new Error(
      `tensor '${spec.name}': b64 data of ${raw.byteLength} bytes is not a whole number of ${spec.datatype}`,
    );
  }
  return raw.byteLength / size;
}

/** BYTES in raw form: each element is a 4-byte little-endian length, then that many bytes. */
function countBytesElements(raw: Uint8Array, name: string): number {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  let count = 0;
  for (let at = 0; at < raw.byteLength; count++) {
    if (at + 4 > raw.byteLength)
      throw new Error(`tensor '${name}': b64 BYTES data ends inside a length prefix`);
    at += 4 + view.getUint32(at, true);
    if (at > raw.byteLength)
      throw new Error(`tensor '${name}': b64 BYTES element ${count} runs past the end`);
  }
  return count;
}

/**
 * The request shape. A given shape leaves out the batch dimension when the model has one (its
 * metadata shape is one longer and starts with -1): the request is a batch of 1. Without a shape,
 * the model's own dims are used, a leading dynamic dim becomes 1 when more than one is dynamic, and
 * the one dynamic dim left is read off the element count.
 */
function resolveShape(spec: TensorSpec, given: number[] | undefined, count: number): number[] {
  const model = spec.shape;
  const describe = `[${model.join(', ')}]`;
  let shape: number[];
  if (given) {
    if (model.length === given.length + 1 && model[0] === -1) shape = [1, ...given];
    else if (model.length === given.length) shape = given;
    else
      throw new Error(
        `tensor '${spec.name}': shape [${given.join(', ')}] does not fit the model's ${describe}`,
      );
    if (shape.some((d, i) => model[i] !== -1 && model[i] !== d)) {
      throw new Error(
        `tensor '${spec.name}': shape [${shape.join(', ')}] does not fit the model's ${describe}`,
      );
    }
  } else {
    shape = [...model];
    let dynamic = shape.filter((d) => d === -1).length;
    if (dynamic > 1 && shape[0] === -1) {
      shape[0] = 1;
      dynamic -= 1;
    }
    if (dynamic > 1) {
      throw new Error(
        `tensor '${spec.name}' has several variable dims ${describe}: give its "shape" beside its "content"`,
      );
    }
    if (dynamic === 1) {
      const known = shape.reduce((a, d) => (d === -1 ? a : a * d), 1);
      if (known === 0 || count % known !== 0) {
        throw new Error(`tensor '${spec.name}': ${count} elements do not fill the model's shape ${describe}`);
      }
      shape[shape.indexOf(-1)] = count / known;
    }
  }
  if (elementCount(shape) !== count) {
    throw new Error(
      `tensor '${spec.name}' has ${count} elements but shape [${shape.join(', ')}] needs ${elementCount(shape)}`,
    );
  }
  return shape;
}
