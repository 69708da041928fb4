/**
 * Amazon SageMaker real-time endpoints (docs/deploy/sagemaker.md): `GET /ping` answers readiness
 * (registered with the other health routes: platform-routes.ts) and `POST /invocations` runs one
 * model on the body, read by its Content-Type:
 *   application/json (or none)       Open Inference Protocol JSON, as /v2/models/{m}/infer;
 *   Inference-Header-Content-Length  binary tensors, as /v2/models/{m}/infer;
 *   text/csv                         rows of numbers → the model's one rank-2 input (csv.ts);
 *   image/png, image/jpeg, image/webp, image/tiff, application/x-image, application/octet-stream
 *                                    one encoded image → the model's image input (imageInput);
 * anything else 415 unsupported_media_type. The answer is the Open Inference Protocol response
 * (JSON, or binary tensors when the JSON request asked for them), whatever the request's type.
 * The model: target-model.ts. The route runs on the v2 infer route's machinery (infer-route.ts):
 * the same access policy, customer gate, body limits, load shedding and access log.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { clip } from '../../core/clip.js';
import type { TensorSpec } from '../../core/model.js';
import { BytesData, type InferenceRequest, type Tensor } from '../../core/tensor.js';
import { InferdError } from '../../errors.js';
import { trySignature } from '../../gateway/api/signature.js';
import type { Admitted, InferenceService } from '../../service/inference-service.js';
import { decodeInferBody, encodeInferBody } from '../rest/infer-body.js';
import { HEADER_LENGTH } from '../rest/binary-codec.js';
import type { EndpointAnswer, InferEndpoint } from '../rest/infer-route.js';
import { csvInput, decodeCsv } from './csv.js';
import { chooseModel } from './target-model.js';

const INVOCATIONS_PATH = '/invocations';

const IMAGE_TYPES = new Set([
  'image/png',
  'image/jpeg',
  'image/webp',
  'image/tiff',
  'application/x-image',
  'application/octet-stream',
]);
// What /v2 reads as JSON too (infer-body.ts): curl's default form type, text/plain.
const JSON_TYPES = new Set(['application/json', 'application/x-www-form-urlencoded', 'text/plain']);

const ACCEPTED =
  'application/json (Open Inference Protocol), text/csv (rows of numbers), or image bytes (image/png, image/jpeg, image/webp, image/tiff, application/x-image, application/octet-stream)';

function mediaType(headers: IncomingHttpHeaders): string | undefined {
  const ct = headers['content-type'];
  return ct === undefined ? undefined : ct.split(';')[0]!.trim().toLowerCase();
}

/**
 * The model's image input: with a signature, the tensor of its one `image` field (a text model's
 * string field is not an image); without one, the model's one input when it is BYTES. One element:
 * the model's declared shape with dynamic dims (the batch dim) at 1.
 */
function imageInput(admitted: Admitted, model: string): TensorSpec & { shape: number[] } {
  const inputs = admitted.inputs;
  const sig = trySignature(model, admitted.config.signature);
  const fields = sig?.inputs.filter((i) => i.type === 'image') ?? [];
  const name = sig
    ? fields.length === 1 && sig.inputs.length === 1
      ? fields[0]!.tensor
      : undefined
    : inputs[0]?.name;
  const spec = inputs.length === 1 && inputs[0]!.name === name ? inputs[0] : undefined;
  const shape = spec?.shape.map((d) => (d < 0 ? 1 : d));
  if (!spec || spec.datatype !== 'BYTES' || shape!.reduce((a, b) => a * b, 1) !== 1) {
    const has = inputs.map((i) => `${i.name} ${i.datatype} [${i.shape.join(', ')}]`).join('; ');
    throw new InferdError(
      'unsupported_media_type',
      `image bytes go to a model whose one input is an image (one BYTES element${sig ? ', an image field in its signature' : ''}); model '${clip(model)}' has ${clip(has, 512)}: send Open Inference Protocol JSON (Content-Type: application/json) instead`,
    );
  }
  return { ...spec, shape: shape! };
}

function decodeImage(admitted: Admitted, body: Buffer, model: string): Tensor[] {
  const spec = imageInput(admitted, model);
  if (body.length === 0)
    throw new InferdError('invalid_image', 'the body is empty; send the encoded image bytes');
  // The body is this request's own buffer: the tensor keeps it without a copy.
  const data = new BytesData(
    new Uint8Array(body.buffer, body.byteOffset, body.length),
    Uint32Array.of(0, body.length),
  );
  return [{ name: spec.name, datatype: 'BYTES', shape: spec.shape, data }];
}

function decode(
  admitted: Admitted,
  headers: IncomingHttpHeaders,
  body: Buffer,
  model: string,
): InferenceRequest {
  const type = mediaType(headers);
  if (
    type === undefined ||
    JSON_TYPES.has(type) ||
    type.endsWith('+json') ||
    headers[HEADER_LENGTH] !== undefined
  ) {
    // decodeInferBody refuses what is not JSON or binary tensors, with its own 415.
    return decodeInferBody(admitted, headers, body, model);
  }
  if (type === 'text/csv') {
    const spec = csvInput(model, admitted.inputs);
    return { modelName: model, inputs: [decodeCsv(body, spec, admitted.admission)] };
  }
  if (IMAGE_TYPES.has(type)) return { modelName: model, inputs: decodeImage(admitted, body, model) };
  throw new InferdError(
    'unsupported_media_type',
    `Content-Type '${clip(headers['content-type'])}' is not supported on /invocations: send ${ACCEPTED}`,
  );
}

export function invocationsEndpoint(
  service: InferenceService,
  defaultModel: string | undefined,
): InferEndpoint {
  return {
    match(req) {
      const url = req.url ?? '';
      if (url !== INVOCATIONS_PATH && !url.startsWith(`${INVOCATIONS_PATH}?`)) return undefined;
      return chooseModel(service, req.headers, defaultModel, true);
    },
    async handle({ admitted, headers, body, target, signal, timing }): Promise<EndpointAnswer> {
      const request = decode(admitted, headers, body, target.model);
      request.signal = signal;
      const response = await service.infer(request, { admitted, timing });
      const encoded = encodeInferBody(request, response, service.maxResponseBytes);
      const out: Record<string, string | number> = { 'content-type': encoded.contentType };
      if (encoded.headerLength !== undefined) out['inference-header-content-length'] = encoded.headerLength;
      return { headers: out, body: encoded.body };
    },
  };
}

/**
 * SageMaker's health check: 200 when ready, else 503 (readiness, as /v2/health/ready). SageMaker
 * waits for a 200 before it sends traffic and expects each answer within 2 seconds: this one does
 * no work beyond reading two flags.
 */
export function registerPing(app: FastifyInstance, service: InferenceService): void {
  app.get('/ping', async (_req, reply) => reply.code(service.ready() ? 200 : 503).send());
}
