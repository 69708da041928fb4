/**
 * Task endpoints: POST /v1/models/{name}/predict and /v1/models/{name}/versions/{version}/predict
 * (version may be an alias such as `production`). Bodies are JSON, or multipart/form-data for image
 * fields (file parts by field name, other parts as text). The model's signature does the mapping.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { InferdError } from '../../errors.js';
import { clientGone } from '../../protocol/http/client-gone.js';
import type { InferenceService } from '../../service/inference-service.js';
import { decodeInputs, encodeOutputs, type JsonObject } from './codec.js';
import { signatureOf, type Signature } from './signature.js';

interface PredictParams {
  name: string;
  version?: string;
}

async function readMultipart(req: FastifyRequest, sig: Signature): Promise<Record<string, unknown>> {
  const images = new Set(sig.inputs.filter((i) => i.type === 'image').map((i) => i.field));
  const body: Record<string, unknown> = {};
  for await (const part of req.parts()) {
    if (part.type === 'file') {
      if (!images.has(part.fieldname)) {
        throw new InferdError(
          'invalid_request',
          `file part '${part.fieldname}' is not an image field of this model`,
        );
      }
      body[part.fieldname] = new Uint8Array(await part.toBuffer());
    } else {
      const s = sig.inputs.find((i) => i.field === part.fieldname);
      const v = String(part.value);
      body[part.fieldname] = s && (s.type === 'number' || s.type === 'integer') ? Number(v) : v;
    }
  }
  return body;
}

function readJson(req: FastifyRequest): Record<string, unknown> {
  const raw = req.body;
  if (!(raw instanceof Buffer) || raw.length === 0) {
    throw new InferdError('invalid_json', 'send a JSON object body (Content-Type: application/json)');
  }
  let v: unknown;
  try {
    v = JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw new InferdError('invalid_json', `the request body is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new InferdError('invalid_request', 'the request body must be a JSON object');
  }
  return v as Record<string, unknown>;
}

export function registerPredictRoutes(v1: FastifyInstance, service: InferenceService): void {
  const handler = async (req: FastifyRequest<{ Params: PredictParams }>, reply: FastifyReply) => {
    const { name, version } = req.params;
    const cfg = service.modelConfig(name, version);
    const sig = signatureOf(name, cfg.signature);
    const meta = service.modelMetadata(name, version);
    const body = req.isMultipart() ? await readMultipart(req, sig) : readJson(req);
    const decoded = decodeInputs(sig, body, meta.inputs, cfg.max_batch_size > 0 ? cfg.max_batch_size : 1);
    req.inferLog = { model: name, version: version ?? '' };
    const res = await service.infer(
      {
        modelName: name,
        modelVersion: version,
        inputs: decoded.inputs,
        outputs: sig.outputs.map((o) => ({ name: o.tensor })),
        signal: clientGone(reply.raw.socket),
      },
      (t) => {
        req.inferLog = { model: name, version: t.version, queueMs: t.queueMs, computeMs: t.computeMs };
      },
    );
    const items = encodeOutputs(sig, res.outputs, decoded.batch ?? 1);
    void reply.header('x-model-version', res.modelVersion);
    const out: JsonObject = decoded.batch === undefined ? items[0]! : { results: items };
    return reply.type('application/json').send(JSON.stringify(out));
  };
  v1.post('/models/:name/predict', handler);
  v1.post('/models/:name/versions/:version/predict', handler);
}
