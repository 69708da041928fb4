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
import type { InferenceService } from '../../service/inference-service.js';
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
  version?: string,
): InferenceRequest {
  if (!isJsonType(headers['content-type'])) {
    throw new InferdError(
      'unsupported_media_type',
      `Content-Type '${clip(headers['content-type'])}' is not supported here: send application/json (curl: -H 'Content-Type: application/json'), or binary tensors with an Inference-Header-Content-Length header`,
    );
  }
  if (raw.length === 0)
    throw new InferdError('invalid_json', 'the request body is empty; send a JSON object with "inputs"');
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw new InferdError('invalid_json', `the request body is not valid JSON: ${(err as Error).message}`);
  }
  return decodeJsonRequest(body, model, version);
}

export function decodeInferBody(
  service: InferenceService,
  headers: IncomingHttpHeaders,
  body: Buffer | undefined,
  model: string,
  version?: string,
): InferenceRequest {
  const raw = body ?? Buffer.alloc(0);
  const headerLength = parseHeaderLength(headers[HEADER_LENGTH], raw.length);
  if (headerLength === undefined) return decodeJsonBody(headers, raw, model, version);
  if (headerLength > 0) return decodeBinaryRequest(raw, headerLength, model, version);
  const md = service.modelMetadata(model, version);
  const maxBatchSize = service.modelConfig(model, version).max_batch_size;
  return decodeRawBinaryRequest(raw, { name: model, version, inputs: md.inputs, maxBatchSize });
}

export function encodeInferBody(request: InferenceRequest, response: InferenceResponse): EncodedResponse {
  return encodeResponse(response, binaryOutputs(request));
}
