/**
 * Vertex AI custom containers (docs/deploy/vertex.md): the predict route ($AIP_PREDICT_ROUTE)
 * takes `{"instances": [...], "parameters": {...}}` and answers `{"predictions": [...]}`, one
 * prediction per instance, in order. Each instance is one request to the model (the dynamic batcher
 * batches them again), with `parameters` as its request parameters (`timeout`, `priority`). An
 * instance, through the model's signature (config.json) when it has one:
 *   an object of the signature's input fields, as /v1 takes them (`{"text": "…"}`), image fields as
 *   Vertex's binary convention `{"b64": "<base64>"}` (or a base64 string); with one input field,
 *   also that field's bare value (`"a message"`, `{"b64": "…"}`); the prediction is the object /v1
 *   answers (`{"label": "spam", "score": 0.97}`);
 * and without a signature:
 *   one row of the model's one input (a number, or arrays nested to the input's dims after the
 *   batch dim), or an object of rows by input name; the prediction is the row of the model's one
 *   output (a scalar when it is one element), or an object of rows by output name.
 * Errors are our `{"error": "…", "code": "…"}`, naming the instance. The route runs on the v2 infer
 * route's machinery (infer-route.ts): access policy, gate, body limits, shedding, access log.
 */
import { clip } from '../../core/clip.js';
import type { TensorSpec } from '../../core/model.js';
import { elementCount, type InferenceRequest, type Parameters, type Tensor } from '../../core/tensor.js';
import { InferdError, toInferdError } from '../../errors.js';
import { decodeInputs, encodeOutputs, type JsonValue } from '../../gateway/api/codec.js';
import { trySignature, type Signature } from '../../gateway/api/signature.js';
import { ENVELOPE_VALUES, parseJsonBody } from '../http/json-body.js';
import { assertJsonFits } from '../http/json-size.js';
import type { InferenceService } from '../../service/inference-service.js';
import { admitInputs, type Admission } from '../../service/admission.js';
import { flattenData } from '../json-data.js';
import { parseParameters } from '../rest/json-codec.js';
import type { EndpointCall, InferEndpoint } from '../rest/infer-route.js';
import { dataToValues, valuesToData } from '../tensor-values.js';
import { chooseModel } from './target-model.js';

/**
 * Most instances in one request. Vertex AI's own body limit (1.5 MB) keeps real requests far below;
 * each instance is a queued request, and 256 is the largest batch a model commonly declares.
 */
const MAX_INSTANCES = 256;
/** Deepest nesting of one instance's row (a tensor of rank 64 is far beyond any model). */
const MAX_RANK = 64;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
/** Vertex AI's convention for binary data in JSON: `{"b64": "<base64>"}`. */
const isB64 = (v: unknown): v is { b64: unknown } => isObject(v) && Object.keys(v).length === 1 && 'b64' in v;
const unwrapB64 = (v: unknown): unknown => (isB64(v) ? v.b64 : v);

/** The same error with the instance's index in front, so a client can find the culprit. */
function atInstance(i: number, err: unknown): InferdError {
  const e = toInferdError(err);
  if (!(err instanceof InferdError)) return e;
  return new InferdError(e.code, `instances[${i}]: ${e.message}`, { headers: e.headers, cause: e.cause });
}

/**
 * One instance → the /v1 body its signature decodes. `{"b64": …}` is unwrapped for image fields
 * only (their base64 string is what /v1 takes); on any other field it is refused as /v1 refuses
 * an object.
 */
function signatureBody(sig: Signature, instance: unknown): Json {
  const images = new Set(sig.inputs.filter((s) => s.type === 'image').map((s) => s.field));
  const single = sig.inputs.length === 1 ? sig.inputs[0]! : undefined;
  if (isObject(instance) && !isB64(instance)) {
    return Object.fromEntries(
      Object.entries(instance).map(([k, v]) => [k, images.has(k) ? unwrapB64(v) : v]),
    );
  }
  if (single) return { [single.field]: images.has(single.field) ? unwrapB64(instance) : instance };
  throw new InferdError(
    'invalid_request',
    `must be an object of the fields ${sig.inputs.map((s) => s.field).join(', ')}`,
  );
}

/** Dims of nested arrays, following the first element at each level (flattenData checks the rest). */
function nestedShape(v: unknown, name: string): number[] {
  const dims: number[] = [];
  while (Array.isArray(v)) {
    dims.push(v.length);
    if (dims.length > MAX_RANK) {
      throw new InferdError('invalid_input', `input '${clip(name)}' nests deeper than ${MAX_RANK} levels`);
    }
    if (v.length === 0) break;
    v = v[0];
  }
  return dims;
}

/** One instance of a model without a signature → its input tensors (one row each when it batches). */
function rowTensors(
  instance: unknown,
  inputs: readonly TensorSpec[],
  batching: boolean,
  admission: Admission,
): Tensor[] {
  // An object is rows by input name (its names are checked below); anything else is the row of
  // a model's one input.
  let rows: Json;
  if (isObject(instance) && !isB64(instance)) rows = instance;
  else if (inputs.length === 1) rows = { [inputs[0]!.name]: instance };
  else {
    throw new InferdError(
      'invalid_request',
      `must be an object of rows by input name (${inputs.map((i) => i.name).join(', ')})`,
    );
  }
  // Names, datatypes and shapes are checked (admitInputs) before any data is decoded.
  const heads = Object.entries(rows).map(([name, value]) => {
    const spec = inputs.find((s) => s.name === name);
    const row = nestedShape(value, name);
    return { name, value, datatype: spec?.datatype ?? 'FP32', shape: batching ? [1, ...row] : row };
  });
  admitInputs(heads, admission);
  return heads.map((h) => {
    const base64 = h.datatype === 'BYTES' && isB64(h.value);
    const values = flattenData(
      base64 ? [(h.value as { b64: unknown }).b64] : h.value,
      h.shape,
      elementCount(h.shape),
      h.name,
    );
    return {
      name: h.name,
      datatype: h.datatype,
      shape: h.shape,
      data: valuesToData(h.datatype, values, h.name, base64),
    };
  });
}

/** Flat values → arrays nested to `dims` (a scalar for one element). */
function nest(values: ReadonlyArray<JsonValue>, dims: readonly number[]): JsonValue {
  if (elementCount(dims) === 1) return values[0]!;
  let level: JsonValue[] = [...values];
  for (let d = dims.length - 1; d > 0; d--) {
    const size = dims[d]!;
    const next: JsonValue[] = [];
    for (let i = 0; i < level.length; i += size) next.push(level.slice(i, i + size));
    level = next;
  }
  return level;
}

function rowPrediction(outputs: readonly Tensor[], batching: boolean): JsonValue {
  const rows = outputs.map(
    (t) =>
      [
        t.name,
        nest(dataToValues(t.datatype, t.data) as JsonValue[], batching ? t.shape.slice(1) : t.shape),
      ] as const,
  );
  return rows.length === 1 ? rows[0]![1] : Object.fromEntries(rows);
}

async function predictOne(
  call: EndpointCall,
  instance: unknown,
  parameters: Parameters | undefined,
): Promise<JsonValue> {
  const { service, admitted, target, signal, timing } = call;
  const model = target.model;
  const batching = admitted.maxBatchSize > 0;
  const sig = trySignature(model, admitted.config.signature);
  const request: InferenceRequest = { modelName: model, inputs: [], signal };
  if (parameters) request.parameters = parameters;
  let batch: number | undefined;
  if (sig) {
    const decoded = decodeInputs(
      sig,
      signatureBody(sig, instance),
      admitted.inputs,
      batching ? admitted.maxBatchSize : 1,
    );
    request.inputs = decoded.inputs;
    request.outputs = sig.outputs.map((o) => ({ name: o.tensor }));
    batch = decoded.batch;
  } else request.inputs = rowTensors(instance, admitted.inputs, batching, admitted.admission);
  const res = await service.infer(request, { admitted, timing });
  assertJsonFits(res.outputs, 0, service.maxResponseBytes);
  if (!sig) return rowPrediction(res.outputs, batching);
  const items = encodeOutputs(sig, res.outputs, batch ?? 1);
  return batch === undefined ? items[0]! : { results: items };
}

function parseBody(
  service: InferenceService,
  raw: Buffer,
): { instances: unknown[]; parameters?: Parameters } {
  if (raw.length === 0) throw new InferdError('invalid_json', 'the body is empty; send {"instances": [...]}');
  const body = parseJsonBody(raw, {
    maxValues: service.maxRequestElements + ENVELOPE_VALUES,
    why: `the limit follows --max-request-elements (${service.maxRequestElements})`,
  });
  if (!isObject(body) || !Array.isArray(body.instances)) {
    throw new InferdError(
      'invalid_request',
      `the body must be a JSON object with an 'instances' array (Vertex AI's predict body)`,
    );
  }
  const unknown = Object.keys(body).filter((k) => k !== 'instances' && k !== 'parameters');
  if (unknown.length > 0) {
    throw new InferdError(
      'invalid_request',
      `unknown field(s) ${clip(unknown.join(', '))}; the body holds 'instances' and 'parameters'`,
    );
  }
  const { instances } = body;
  if (instances.length === 0)
    throw new InferdError('invalid_request', `'instances' is empty; send at least one instance`);
  if (instances.length > MAX_INSTANCES) {
    throw new InferdError(
      'invalid_request',
      `'instances' holds ${instances.length}; the limit is ${MAX_INSTANCES} per request`,
    );
  }
  return { instances, parameters: parseParameters(body.parameters, 'request') };
}

export function vertexPredictEndpoint(
  service: InferenceService,
  path: string,
  defaultModel: string | undefined,
): InferEndpoint {
  return {
    match(req) {
      const url = req.url ?? '';
      const q = url.indexOf('?');
      if ((q < 0 ? url : url.slice(0, q)) !== path) return undefined;
      return chooseModel(service, req.headers, defaultModel, false);
    },
    async handle(call) {
      // The route admitted the model (and shed) before the body was read.
      const { instances, parameters } = parseBody(service, call.body);
      const predictions = await Promise.all(
        instances.map((instance, i) =>
          predictOne(call, instance, parameters).catch((err: unknown) => Promise.reject(atInstance(i, err))),
        ),
      );
      return { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ predictions }) };
    },
  };
}
