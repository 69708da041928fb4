/**
 * Triton's binary tensor data extension for REST (server/docs/protocol/extension_binary_data.md).
 *
 * Request: `Inference-Header-Content-Length: N` says the body's first N bytes are the JSON request;
 * every input with `parameters.binary_data_size` takes that many raw bytes (raw-tensor.ts encoding)
 * from what follows, in input order; other inputs carry JSON `data`. N = 0 is a "raw binary request":
 * the whole body is the data of the model's single input (see decodeRawBinaryRequest).
 *
 * Response: outputs requested with `binary_data: true`, or all outputs when the request parameter
 * `binary_data_output` is true (an output's own `binary_data` overrides it), are sent as raw bytes
 * after the JSON header, with `binary_data_size` in their parameters; the response then carries
 * `Inference-Header-Content-Length` and `Content-Type: application/octet-stream`.
 */
import { inSharedMemory } from '../shm-tensors.js';
import { clip } from '../../core/clip.js';
import {
  BytesData,
  elementCount,
  elementSize,
  type InferenceRequest,
  type InferenceResponse,
  type Tensor,
} from '../../core/tensor.js';
import { InferdError } from '../../errors.js';
import type { TensorSpec } from '../../core/model.js';
import { admitInputs, type Admission } from '../../service/admission.js';
import { assertJsonFits } from '../http/json-size.js';
import { parseJsonBody, requestJsonLimits } from '../http/json-body.js';
import { dataToRaw, rawToData } from '../raw-tensor.js';
import {
  decodeEnvelope,
  decodeJsonInput,
  encodeJsonOutput,
  encodeJsonResponse,
  parseInputHeader,
  type JsonOutput,
} from './json-codec.js';

export const HEADER_LENGTH = 'inference-header-content-length';

/** Parses the header value; undefined when absent (a plain JSON request). */
export function parseHeaderLength(
  value: string | string[] | undefined,
  bodyLength: number,
): number | undefined {
  if (value === undefined) return undefined;
  const s = Array.isArray(value) ? value[0]! : value;
  const n = Number(s);
  if (!/^\d+$/.test(s.trim()) || !Number.isSafeInteger(n) || n > bodyLength) {
    throw new InferdError(
      'invalid_request',
      `Inference-Header-Content-Length must be an integer from 0 to the body length (${bodyLength}), got '${clip(s)}'`,
    );
  }
  return n;
}

/**
 * A request with a JSON header of `headerLength` bytes followed by binary tensor data. The header
 * is scanned before it is parsed, and every input's header is admitted before any data is decoded.
 * Without `admission` (a client reading its own files) no element bound applies.
 */
export function decodeBinaryRequest(
  body: Buffer,
  headerLength: number,
  modelName: string,
  modelVersion?: string,
  admission?: Admission,
): InferenceRequest {
  const header = parseJsonBody(
    body.subarray(0, headerLength),
    requestJsonLimits(admission ?? { maxElements: Infinity, why: '' }),
    'the first Inference-Header-Content-Length bytes of the body are not valid JSON',
  );
  const { json, request } = decodeEnvelope(header, modelName, modelVersion);
  const raws = json.inputs as unknown[];
  const heads = raws.map((raw, i) => parseInputHeader(raw, i));
  if (admission) admitInputs(heads, admission);
  let offset = headerLength;
  const inputs = raws.map((raw, i): Tensor => {
    const head = heads[i]!;
    const size = head.parameters?.binary_data_size;
    if (size === undefined) return decodeJsonInput(raw, head);
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
      throw new InferdError(
        'invalid_request',
        `input '${clip(head.name)}': binary_data_size must be a non-negative integer`,
      );
    }
    if (offset + size > body.length) {
      throw new InferdError(
        'invalid_request',
        `input '${clip(head.name)}' declares binary_data_size ${size} but only ${body.length - offset} bytes of binary data remain`,
      );
    }
    const data = rawToData(head.datatype, head.shape, body.subarray(offset, offset + size), head.name);
    offset += size;
    const { binary_data_size: _size, ...rest } = head.parameters!;
    const tensor: Tensor = { name: head.name, datatype: head.datatype, shape: head.shape, data };
    if (Object.keys(rest).length > 0) tensor.parameters = rest;
    return tensor;
  });
  if (offset !== body.length) {
    throw new InferdError(
      'invalid_request',
      `the body has ${body.length - offset} bytes after the last binary input; binary_data_size values must add up to the binary part`,
    );
  }
  return { ...request, inputs };
}

/**
 * A raw binary request (header length 0): the body is the data of the model's only input. Its shape
 * comes from the model: the batch dim (when the model batches) is 1, and at most one other
 * variable dim is deduced from the byte size. For BYTES the shape is [1] and the whole body is the
 * one element (no length prefix). Every output is returned in binary.
 */
export function decodeRawBinaryRequest(
  body: Buffer,
  model: { name: string; version?: string; inputs: readonly TensorSpec[]; maxBatchSize: number },
  admission?: Admission,
): InferenceRequest {
  if (model.inputs.length !== 1) {
    throw new InferdError(
      'invalid_request',
      `a raw binary request (Inference-Header-Content-Length: 0) needs a model with exactly one input; '${model.name}' has ${model.inputs.length}: send a JSON header`,
    );
  }
  const spec = model.inputs[0]!;
  const dims = model.maxBatchSize > 0 ? spec.shape.slice(1) : [...spec.shape];
  const batch = model.maxBatchSize > 0 ? [1] : [];
  let data: Tensor['data'];
  let shape: number[];
  if (spec.datatype === 'BYTES') {
    shape = [...batch, ...dims.map(() => 1)];
    if (elementCount(shape) !== 1)
      throw new InferdError('invalid_request', `raw binary BYTES input '${spec.name}' must have shape [1]`);
    data = BytesData.fromArrays([body]);
  } else {
    const variable = dims.filter((d) => d < 0).length;
    if (variable > 1) {
      throw new InferdError(
        'invalid_request',
        `input '${spec.name}' has ${variable} variable dims [${spec.shape.join(', ')}]; a raw binary request allows at most one: send a JSON header`,
      );
    }
    const fixed = elementCount(dims.filter((d) => d >= 0));
    const elementBytes = elementSize(spec.datatype)!;
    const count = body.length / elementBytes;
    const missing = fixed === 0 ? 0 : count / fixed;
    if (!Number.isInteger(missing) || (variable === 0 && count !== fixed)) {
      throw new InferdError(
        'invalid_input',
        `raw binary body of ${body.length} bytes does not fit input '${spec.name}' ${spec.datatype} [${spec.shape.join(', ')}]`,
      );
    }
    shape = [...batch, ...dims.map((d) => (d < 0 ? missing : d))];
    if (admission) admitInputs([{ name: spec.name, datatype: spec.datatype, shape }], admission);
    data = rawToData(spec.datatype, shape, body, spec.name);
  }
  const request: InferenceRequest = {
    modelName: model.name,
    inputs: [{ name: spec.name, datatype: spec.datatype, shape, data }],
  };
  if (model.version !== undefined) request.modelVersion = model.version;
  request.parameters = { binary_data_output: true };
  return request;
}

/** Which outputs the client asked for in binary. */
export function binaryOutputs(request: InferenceRequest): (name: string) => boolean {
  const all = request.parameters?.binary_data_output === true;
  if (!request.outputs || request.outputs.length === 0) return () => all;
  const own = new Map(request.outputs.map((o) => [o.name, o.parameters?.binary_data]));
  return (name) => {
    const v = own.get(name);
    return typeof v === 'boolean' ? v : all;
  };
}

export interface EncodedResponse {
  contentType: string;
  /**
   * JSON stays a string: Node joins the head and a string body into one chunk, with no Buffer
   * copy of the text. It is still one writev syscall per answer either way (Node corks the socket
   * in end() and adds an empty closing chunk); that syscall, the kernel's loopback send, was 11%
   * of the event loop's profile (spam model, concurrency 64).
   */
  body: Buffer | string;
  /** Set when binary data follows the JSON header. */
  headerLength?: number;
}

/** Encodes a response as plain JSON, or JSON header + binary outputs when any output is binary. */
export function encodeResponse(
  res: InferenceResponse,
  isBinary: (name: string) => boolean,
  maxResponseBytes?: number,
): EncodedResponse {
  assertJsonFits(
    res.outputs.filter((t) => !isBinary(t.name) && !inSharedMemory(t)),
    (res.id?.length ?? 0) + res.modelName.length,
    maxResponseBytes,
  );
  const chunks: Uint8Array[] = [];
  const outputs = res.outputs.map((t): JsonOutput => {
    if (!isBinary(t.name) || inSharedMemory(t)) return encodeJsonOutput(t);
    const raw = dataToRaw(t.datatype, t.data);
    chunks.push(raw);
    return {
      name: t.name,
      datatype: t.datatype,
      shape: t.shape,
      parameters: { binary_data_size: raw.byteLength },
    };
  });
  const text = JSON.stringify(encodeJsonResponse(res, outputs));
  if (chunks.length === 0) return { contentType: 'application/json', body: text };
  const json = Buffer.from(text, 'utf8');
  return {
    contentType: 'application/octet-stream',
    body: Buffer.concat([json, ...chunks]),
    headerLength: json.length,
  };
}
