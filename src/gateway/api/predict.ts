/**
 * Task endpoints: POST /v1/models/{name}/predict and /v1/models/{name}/versions/{version}/predict
 * (version may be an alias such as `production`). Bodies are JSON, or multipart/form-data for image
 * fields (file parts by field name, other parts as text). The model's signature does the mapping.
 * Multipart uploads are bounded by the plan's payload limit and --max-body-bytes on the bytes
 * actually read (upload-budget.ts); parsed bodies are bounded before they reach the handler.
 */
import { clip } from '../../core/clip.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { InferdError } from '../../errors.js';
import { clientGone } from '../../protocol/http/client-gone.js';
import { payloadTooLarge } from '../../protocol/http/errors.js';
import { assertJsonFits } from '../../protocol/http/json-size.js';
import { ENVELOPE_VALUES, parseJsonBody } from '../../protocol/http/json-body.js';
import type { InferenceService } from '../../service/inference-service.js';
import { decodeInputs, encodeOutputs, type JsonObject } from './codec.js';
import { observeDrift } from './observe-drift.js';
import { signatureOf, type Signature } from './signature.js';
import { UploadBudget } from './upload-budget.js';

/** The body limit of one request: the plan's when the gateway set one. */
interface BodyLimit {
  max: number;
  tooLarge: () => InferdError;
}

export interface PredictOptions {
  /** The server's body limit (--max-body-bytes). */
  maxBodyBytes: number;
  /** The plan's limit for this request, when the gateway is on. */
  planLimit: (req: FastifyRequest) => BodyLimit | undefined;
  /**
   * Called with each answered single (unbatched) prediction before the answer is sent: the
   * gateway logs it for feedback (gateway/feedback.ts).
   */
  onAnswer?: (req: FastifyRequest, a: Answered) => Promise<void>;
}

/** One answered single prediction. */
export interface Answered {
  /** The request id the answer carries (x-request-id). */
  requestId: string;
  model: string;
  /** The version that answered. */
  version: string;
  sig: Signature;
  body: Record<string, unknown>;
  item: JsonObject;
}

interface PredictParams {
  name: string;
  version?: string;
}

async function readMultipart(
  req: FastifyRequest,
  sig: Signature,
  limit: BodyLimit,
): Promise<Record<string, unknown>> {
  const images = new Set(sig.inputs.filter((i) => i.type === 'image').map((i) => i.field));
  const body: Record<string, unknown> = {};
  const parts = req.parts();
  let next = parts.next(); // starts busboy, which pipes the raw request from now on
  const budget = new UploadBudget(req.raw, limit.max, limit.tooLarge);
  try {
    for (;;) {
      const r = await budget.race(next);
      if (r.done) break;
      const part = r.value;
      if (part.type === 'file') {
        if (!images.has(part.fieldname)) {
          throw new InferdError(
            'invalid_request',
            `file part '${clip(part.fieldname)}' is not an image field of this model`,
          );
        }
        body[part.fieldname] = new Uint8Array(await budget.race(part.toBuffer()));
      } else {
        const s = sig.inputs.find((i) => i.field === part.fieldname);
        const v = String(part.value);
        body[part.fieldname] = s && (s.type === 'number' || s.type === 'integer') ? Number(v) : v;
      }
      next = parts.next();
    }
  } finally {
    budget.stop();
  }
  return body;
}

/** The JSON body, scanned before it is parsed (bounded values and nesting, see json-body.ts). */
function readJson(req: FastifyRequest, maxRequestElements: number): Record<string, unknown> {
  const raw = req.body;
  if (!(raw instanceof Buffer) || raw.length === 0) {
    throw new InferdError('invalid_json', 'send a JSON object body (Content-Type: application/json)');
  }
  const v = parseJsonBody(raw, {
    maxValues: maxRequestElements + ENVELOPE_VALUES,
    why: `the limit follows --max-request-elements (${maxRequestElements})`,
  });
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new InferdError('invalid_request', 'the request body must be a JSON object');
  }
  return v as Record<string, unknown>;
}

export function registerPredictRoutes(
  v1: FastifyInstance,
  service: InferenceService,
  opts: PredictOptions,
): void {
  const serverLimit: BodyLimit = {
    max: opts.maxBodyBytes,
    tooLarge: () => {
      const e = payloadTooLarge(opts.maxBodyBytes);
      e.headers.connection = 'close';
      return e;
    },
  };
  const handler = async (req: FastifyRequest<{ Params: PredictParams }>, reply: FastifyReply) => {
    const { name, version } = req.params;
    // The one lookup of the version: unknown, not READY or draining is refused before the body is read.
    // A canary splits by the API key (sticky per customer), else by request id.
    const admitted = service.admit(name, version, req.gateCall?.key?.id ?? req.id);
    const sig = signatureOf(name, admitted.config.signature);
    let body: Record<string, unknown>;
    if (req.isMultipart()) {
      const plan = opts.planLimit(req);
      body = await readMultipart(req, sig, plan && plan.max < serverLimit.max ? plan : serverLimit);
    } else body = readJson(req, service.maxRequestElements);
    const decoded = decodeInputs(sig, body, admitted.inputs, Math.max(admitted.maxBatchSize, 1));
    req.inferLog = { model: name, version: version ?? '' };
    const res = await service.infer(
      {
        modelName: name,
        modelVersion: version,
        inputs: decoded.inputs,
        outputs: sig.outputs.map((o) => ({ name: o.tensor })),
        signal: clientGone(reply.raw.socket),
      },
      {
        admitted,
        requestKey: req.id,
        timing: (t) => {
          req.inferLog = { model: name, version: t.version, queueMs: t.queueMs, computeMs: t.computeMs };
        },
      },
    );
    assertJsonFits(res.outputs, 0, service.maxResponseBytes);
    const items = encodeOutputs(sig, res.outputs, decoded.batch ?? 1);
    void reply.header('x-model-version', res.modelVersion);
    observeDrift(admitted, sig, body, items, decoded.batch !== undefined);
    if (opts.onAnswer && decoded.batch === undefined) {
      // Before the answer, so that feedback sent as soon as it arrives finds the prediction.
      await opts.onAnswer(req, {
        requestId: req.id,
        model: name,
        version: res.modelVersion,
        sig,
        body,
        item: items[0]!,
      });
    }
    const out: JsonObject = decoded.batch === undefined ? items[0]! : { results: items };
    return reply.type('application/json').send(JSON.stringify(out));
  };
  v1.post('/models/:name/predict', handler);
  v1.post('/models/:name/versions/:version/predict', handler);
}
