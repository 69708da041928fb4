/**
 * Decoding and encoding of the REST infer body: JSON (application/json), Triton's binary tensor
 * extension (any request carrying Inference-Header-Content-Length) and the raw binary request
 * (that header = 0). The response format follows the request's binary_data flags, whatever the
 * request's own encoding was.
 */
import { clip } from '../../core/clip.js';
import type { IncomingHttpHeaders } from 'node:http';
import type { InferenceRequest, InferenceResponse } from '../../core/tensor.js';
import { InferdError } from '../../errors.js';
import type { Admission } from '../../service/admission.js';
import type { Admitted } from '../../service/inference-service.js';
import { parseJsonBody, requestJsonLimits } from '../http/json-body.js';
import {
  binaryOutputs,
  decodeBinaryRequest,
  decodeRawBinaryRequest,
  encodeResponse,
  HEADER_LENGTH,
  parseHeaderLength,
  type EncodedResponse,
} from './binary-codec.js';
import { decodeJsonRequest } from './json-codec.js';

/**
 * Content types read as a JSON body. Triton parses the body whatever it is labelled, and its own
 * examples post with `curl -d`, which labels it application/x-www-form-urlencoded; the Python
 * tritonclient sends no Content-Type at all. Types that say the body is something else (an image,
 * multipart, octet-stream without Inference-Header-Content-Length) get a 415 that says what to send.
 */
function isJsonType(ct: string | undefined): boolean {
  if (!ct || ct === 'application/json') return true;
  const type = ct.split(';')[0]!.trim().toLowerCase();
  return (
    type === 'application/json' ||
    type === 'application/x-www-form-urlencoded' ||
    type === 'text/plain' ||
    (type.startsWith('application/') && type.endsWith('+json'))
  );
}

function decodeJsonBody(
  headers: IncomingHttpHeaders,
  raw: Buffer,
  model: string,
  version: string | undefined,
  admission: Admission,
): InferenceRequest {
  if (!isJsonType(headers['content-type'])) {
    throw new InferdError(
      'unsupported_media_type',
      `Content-Type '${clip(headers['content-type'])}' is not supported here: send application/json (curl: -H 'Content-Type: application/json'), or binary tensors with an Inference-Header-Content-Length header`,
    );
  }
  if (raw.length === 0)
    throw new InferdError('invalid_json', 'the request body is empty; send a JSON object with "inputs"');
  const body = parseJsonBody(raw, requestJsonLimits(admission));
  return decodeJsonRequest(body, model, version, admission);
}

/**
 * Decodes an infer body for `model`, whose version the service admitted first (an unknown model is
 * 404 before anything is parsed); the admission bounds every decoder (see service/admission.ts).
 */
export function decodeInferBody(
  admitted: Admitted,
  headers: IncomingHttpHeaders,
  body: Buffer | undefined,
  model: string,
  version?: string,
): InferenceRequest {
  const { admission } = admitted;
  const raw = body ?? Buffer.alloc(0);
  const headerLength = parseHeaderLength(headers[HEADER_LENGTH], raw.length);
  if (headerLength === undefined) return decodeJsonBody(headers, raw, model, version, admission);
  if (headerLength > 0) return decodeBinaryRequest(raw, headerLength, model, version, admission);
  return decodeRawBinaryRequest(
    raw,
    { name: model, version, inputs: admitted.inputs, maxBatchSize: admitted.maxBatchSize },
    admission,
  );
}

export function encodeInferBody(
  request: InferenceRequest,
  response: InferenceResponse,
  maxResponseBytes?: number,
): EncodedResponse {
  return encodeResponse(response, binaryOutputs(request), maxResponseBytes);
}
