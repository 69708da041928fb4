/**
 * ModelInferRequest / ModelInferResponse ↔ internal requests and responses, both directions (the
 * server decodes requests and encodes responses; the gRPC client does the reverse).
 *
 * Contract: a request carries its tensors either all in `raw_input_contents` or all in typed
 * `contents`. The response mirrors that choice (raw in → raw out), except that typed responses
 * switch to raw when an output is FP16/BF16, which has no typed field.
 */
import { inSharedMemory, placeholder, usesSharedMemory } from '../shm-tensors.js';
import { clip } from '../../core/clip.js';
import {
  isDatatype,
  DATATYPES,
  type InferenceRequest,
  type InferenceResponse,
  type Tensor,
} from '../../core/tensor.js';
import { InferdError } from '../../errors.js';
import { admitInputs, type Admission } from '../../service/admission.js';
import { dataToRaw, rawToData } from '../raw-tensor.js';
import type { DecodedContents } from './contents-decode.js';
import { contentsLength, contentsToData, dataToContents, hasTypedContents } from './contents.js';
import { decodeParameters, encodeParameters } from './parameters.js';
import type { Long64, WireContents, WireInferRequest, WireInferResponse, WireTensor } from './wire-types.js';

export type Encoding = 'raw' | 'typed';

function hasValues(c: WireContents | DecodedContents | null | undefined): boolean {
  return !!c && Object.values(c).some((v) => contentsLength(v) > 0);
}

function parseWireShape(shape: Long64[], name: string): number[] {
  const dims = shape.map(Number);
  if (!dims.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new InferdError(
      'invalid_request',
      `input '${clip(name)}': shape [${clip(shape.join(', '))}] must hold non-negative integers`,
    );
  }
  return dims;
}

export function tensorHeader(w: WireTensor, index: number): Omit<Tensor, 'data'> {
  if (!w.name) throw new InferdError('invalid_request', `inputs[${index}] needs a non-empty 'name'`);
  if (!isDatatype(w.datatype)) {
    throw new InferdError(
      'invalid_request',
      `input '${clip(w.name)}': datatype ${clip(JSON.stringify(w.datatype))} is not one of ${DATATYPES.join(', ')}`,
    );
  }
  const parameters = decodeParameters(w.parameters);
  return {
    name: w.name,
    datatype: w.datatype,
    shape: parseWireShape(w.shape, w.name),
    ...(parameters ? { parameters } : {}),
  };
}

/**
 * Server side: a wire request → an internal request (no deadline or signal yet) and its encoding.
 * `admission` (the model's, from the service) checks every input's header before any data is
 * decoded; the typed contents were already counted by the request deserializer.
 */
export function decodeInferRequest(
  w: WireInferRequest,
  admission?: Admission,
): { request: InferenceRequest; encoding: Encoding } {
  if (!w.model_name) throw new InferdError('invalid_request', `'model_name' is required`);
  const raw = w.raw_input_contents ?? [];
  const encoding: Encoding = raw.length > 0 ? 'raw' : 'typed';
  const heads = w.inputs.map((t, i) => tensorHeader(t, i));
  // Inputs in system shared memory carry no contents: raw entries are for the others, in order.
  const direct = heads.filter((h) => !usesSharedMemory(h.parameters)).length;
  if (encoding === 'raw' && raw.length !== direct) {
    throw new InferdError(
      'invalid_request',
      `raw_input_contents has ${raw.length} entries but there are ${direct} inputs not in shared memory; send one per input, in input order`,
    );
  }
  if (admission) admitInputs(heads, admission);
  let next = 0;
  const inputs = w.inputs.map((t, i): Tensor => {
    const head = heads[i]!;
    if (usesSharedMemory(head.parameters)) {
      if (hasValues(t.contents)) {
        throw new InferdError(
          'invalid_request',
          `input '${clip(t.name)}' names a shared memory region and also has contents: send one or the other`,
        );
      }
      return placeholder(head);
    }
    if (encoding === 'raw') {
      if (hasValues(t.contents)) {
        throw new InferdError(
          'invalid_request',
          `input '${clip(t.name)}' has typed contents, but raw_input_contents is used: put every input in one or the other`,
        );
      }
      return { ...head, data: rawToData(head.datatype, head.shape, raw[next++]!, head.name) };
    }
    return { ...head, data: contentsToData(head.datatype, head.shape, t.contents ?? {}, head.name) };
  });
  const request: InferenceRequest = { modelName: w.model_name, inputs };
  if (w.model_version) request.modelVersion = w.model_version;
  if (w.id) request.id = w.id;
  const parameters = decodeParameters(w.parameters);
  if (parameters) request.parameters = parameters;
  if (w.outputs && w.outputs.length > 0) {
    request.outputs = w.outputs.map((o) => {
      const p = decodeParameters(o.parameters);
      return p ? { name: o.name, parameters: p } : { name: o.name };
    });
  }
  return { request, encoding };
}

function encodeTensors(
  tensors: Tensor[],
  preferred: Encoding,
): { tensors: WireTensor[]; raw?: Uint8Array[] } {
  const raw = preferred === 'raw' || tensors.some((t) => !hasTypedContents(t.datatype));
  const wire = tensors.map((t): WireTensor => ({
    name: t.name,
    datatype: t.datatype,
    shape: t.shape,
    parameters: encodeParameters(t.parameters),
    ...(raw || inSharedMemory(t) ? {} : { contents: dataToContents(t.datatype, t.data) }),
  }));
  // An output written to shared memory keeps its place in raw_output_contents, empty, so the
  // entries still line up with `outputs`.
  return raw ? { tensors: wire, raw: tensors.map((t) => dataToRaw(t.datatype, t.data)) } : { tensors: wire };
}

/** Server side: an internal response → wire, in the request's encoding. */
export function encodeInferResponse(res: InferenceResponse, encoding: Encoding): WireInferResponse {
  const { tensors, raw } = encodeTensors(res.outputs, encoding);
  return {
    model_name: res.modelName,
    model_version: res.modelVersion,
    id: res.id ?? '',
    parameters: encodeParameters(res.parameters),
    outputs: tensors,
    raw_output_contents: raw ?? [],
  };
}

/** Client side: an internal request → wire. */
export function encodeInferRequest(
  req: Omit<InferenceRequest, 'signal'>,
  encoding: Encoding,
): WireInferRequest {
  const { tensors, raw } = encodeTensors(req.inputs, encoding);
  return {
    model_name: req.modelName,
    model_version: req.modelVersion ?? '',
    id: req.id ?? '',
    parameters: encodeParameters(req.parameters),
    inputs: tensors,
    outputs: (req.outputs ?? []).map((o) => ({ name: o.name, parameters: encodeParameters(o.parameters) })),
    raw_input_contents: raw ?? [],
  };
}

/** Client side: a wire response → internal; accepts raw or typed outputs. */
export function decodeInferResponse(w: WireInferResponse): InferenceResponse {
  const raw = w.raw_output_contents ?? [];
  const outputs = w.outputs.map((t, i): Tensor => {
    const head = tensorHeader(t, i);
    const data =
      raw.length > 0
        ? rawToData(head.datatype, head.shape, raw[i] ?? new Uint8Array(0), head.name)
        : contentsToData(head.datatype, head.shape, t.contents ?? {}, head.name);
    return { ...head, data };
  });
  const res: InferenceResponse = { modelName: w.model_name, modelVersion: w.model_version, outputs };
  if (w.id) res.id = w.id;
  const parameters = decodeParameters(w.parameters);
  if (parameters) res.parameters = parameters;
  return res;
}
