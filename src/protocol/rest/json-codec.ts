/**
 * Open Inference Protocol v2 JSON bodies ↔ internal requests and responses.
 * `data` may be flat or nested (row-major either way); element counts must match the shape.
 */
import { clip } from '../../core/clip.js';
import {
  elementCount,
  isDatatype,
  DATATYPES,
  type InferenceRequest,
  type InferenceResponse,
  type Parameters,
  type Tensor,
} from '../../core/tensor.js';
import { InferdError } from '../../errors.js';
import { admitInputs, type Admission } from '../../service/admission.js';
import { flattenData } from '../json-data.js';
import { inSharedMemory, placeholder, usesSharedMemory } from '../shm-tensors.js';
import { dataToValues, valuesToData } from '../tensor-values.js';

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

export function parseParameters(v: unknown, where: string): Parameters | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) throw new InferdError('invalid_request', `${where} 'parameters' must be an object`);
  for (const [k, val] of Object.entries(v)) {
    if (!['string', 'number', 'boolean'].includes(typeof val)) {
      throw new InferdError(
        'invalid_request',
        `${where} parameter '${clip(k)}' must be a string, number or boolean`,
      );
    }
  }
  return v as Parameters;
}

function parseShape(v: unknown, name: string): number[] {
  if (!Array.isArray(v) || !v.every((d) => typeof d === 'number' && Number.isInteger(d) && d >= 0)) {
    throw new InferdError(
      'invalid_request',
      `input '${clip(name)}': 'shape' must be an array of non-negative integers`,
    );
  }
  return v as number[];
}

/** The header fields of one input (everything but its data). */
export function parseInputHeader(
  raw: unknown,
  index: number,
): { name: string; shape: number[]; datatype: Tensor['datatype']; parameters?: Parameters } {
  if (!isObject(raw)) throw new InferdError('invalid_request', `inputs[${index}] must be an object`);
  if (typeof raw.name !== 'string' || raw.name === '') {
    throw new InferdError('invalid_request', `inputs[${index}] needs a non-empty string 'name'`);
  }
  const name = raw.name;
  const shape = parseShape(raw.shape, name);
  if (!isDatatype(raw.datatype)) {
    throw new InferdError(
      'invalid_request',
      `input '${clip(name)}': datatype ${clip(JSON.stringify(raw.datatype))} is not one of ${DATATYPES.join(', ')}`,
    );
  }
  const parameters = parseParameters(raw.parameters, `input '${clip(name)}'`);
  const head: ReturnType<typeof parseInputHeader> = { name, shape, datatype: raw.datatype };
  if (parameters) head.parameters = parameters;
  return head;
}

export type InputHeader = ReturnType<typeof parseInputHeader>;

/**
 * One input's JSON `data` → a tensor. The header comes from parseInputHeader and has passed the
 * request's admission: the element count is checked before the storage is allocated.
 */
export function decodeJsonInput(raw: unknown, head: InputHeader): Tensor {
  const body = raw as Json;
  if (body.data === undefined) {
    // Its bytes are in system shared memory, read before inference (shm-tensors.ts).
    if (usesSharedMemory(head.parameters)) return placeholder(head);
    throw new InferdError('invalid_request', `input '${clip(head.name)}' has no 'data'`);
  }
  const values = flattenData(body.data, head.shape, elementCount(head.shape), head.name);
  const base64 = head.parameters?.content_type === 'base64';
  const tensor: Tensor = {
    name: head.name,
    datatype: head.datatype,
    shape: head.shape,
    data: valuesToData(head.datatype, values, head.name, base64),
  };
  if (head.parameters) tensor.parameters = head.parameters;
  return tensor;
}

/** The request envelope (id, parameters, outputs) shared by the JSON and binary encodings. */
export function decodeEnvelope(
  body: unknown,
  modelName: string,
  modelVersion?: string,
): { json: Json; request: Omit<InferenceRequest, 'inputs'> } {
  if (!isObject(body))
    throw new InferdError('invalid_request', 'the request body must be a JSON object with "inputs"');
  if (!Array.isArray(body.inputs))
    throw new InferdError('invalid_request', `the request needs an 'inputs' array`);
  if (body.id !== undefined && typeof body.id !== 'string')
    throw new InferdError('invalid_request', `'id' must be a string`);
  const request: Omit<InferenceRequest, 'inputs'> = { modelName, modelVersion };
  if (body.id !== undefined) request.id = body.id as string;
  const parameters = parseParameters(body.parameters, 'request');
  if (parameters) request.parameters = parameters;
  if (body.outputs !== undefined) {
    if (!Array.isArray(body.outputs)) throw new InferdError('invalid_request', `'outputs' must be an array`);
    request.outputs = body.outputs.map((o: unknown, i: number) => {
      if (!isObject(o) || typeof o.name !== 'string') {
        throw new InferdError('invalid_request', `outputs[${i}] needs a string 'name'`);
      }
      const p = parseParameters(o.parameters, `output '${clip(o.name)}'`);
      return p ? { name: o.name, parameters: p } : { name: o.name };
    });
  }
  return { json: body, request };
}

/**
 * A parsed JSON body → a request. Every input's header is read and admitted (element count, and the
 * model's names, datatypes and shapes when `admission` has a model) before any data is decoded.
 */
export function decodeJsonRequest(
  body: unknown,
  modelName: string,
  modelVersion?: string,
  admission?: Admission,
): InferenceRequest {
  const { json, request } = decodeEnvelope(body, modelName, modelVersion);
  const raws = json.inputs as unknown[];
  const heads = raws.map((raw, i) => parseInputHeader(raw, i));
  if (admission) admitInputs(heads, admission);
  const inputs = raws.map((raw, i) => decodeJsonInput(raw, heads[i]!));
  return Object.assign(request, { inputs });
}

export interface JsonOutput {
  name: string;
  datatype: string;
  shape: number[];
  parameters?: Parameters;
  data?: ReadonlyArray<number | boolean | string>;
}

export function encodeJsonOutput(t: Tensor): JsonOutput {
  // Written into the client's shared memory: the answer says where, with no data (as Triton).
  if (inSharedMemory(t))
    return { name: t.name, datatype: t.datatype, shape: t.shape, parameters: t.parameters! };
  return { name: t.name, datatype: t.datatype, shape: t.shape, data: dataToValues(t.datatype, t.data) };
}

export function encodeJsonResponse(
  res: InferenceResponse,
  outputs: JsonOutput[] = res.outputs.map(encodeJsonOutput),
): Json {
  const out: Json = { model_name: res.modelName, model_version: res.modelVersion };
  if (res.id !== undefined) out.id = res.id;
  if (res.parameters) out.parameters = res.parameters;
  out.outputs = outputs;
  return out;
}
