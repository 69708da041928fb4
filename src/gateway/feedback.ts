/**
 * Feedback (docs/lifecycle.md#feedback-and-drift): each single /v1 prediction made with an API key
 * is logged under its request id (the answer's x-request-id), and
 * `POST /v1/models/{name}/feedback {request_id, label | text}` stores the true label (or, for a
 * model without labels such as OCR, the corrected text) with it. Bounded: the answer and the kept
 * input are at most 64 KiB each; inputs are kept only when the key's plan opts in (`keepInputs`);
 * every record expires after the plan's `predictionRetentionDays` and is purged. Another key's
 * prediction, an expired one, or one never logged are the same 404 `prediction_not_found`.
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { clip } from '../core/clip.js';
import { InferdError } from '../errors.js';
import { parseJsonBody } from '../protocol/http/json-body.js';
import type { InferenceService } from '../service/inference-service.js';
import { requireScope } from './auth.js';
import { DEFAULT_PREDICTION_RETENTION_DAYS, type PlanSet } from './plans.js';
import type { ApiKeyRecord, PredictionRecord, Store } from './store/types.js';
import { GroupCommit } from './store/group-commit.js';
import type { JsonObject } from './api/codec.js';
import type { Signature } from './api/signature.js';
import type { Answered } from './api/predict.js';

/** Largest answer or kept input stored per prediction (JSON text, UTF-16 code units). */
const MAX_LOGGED_CHARS = 64 * 1024;
/** Longest request id feedback may name (ids the server makes are far shorter). */
const MAX_REQUEST_ID_CHARS = 128;
const MAX_LABEL_CHARS = 256;
const DAY_MS = 86_400_000;

/** Called once per accepted feedback; `correct` null when there was nothing to compare. */
export type FeedbackListener = (model: string, version: string, correct: boolean | null) => void;

export interface PredictionLogOptions {
  store: Store;
  plans: PlanSet;
  logger: Logger;
  now?: () => number;
}

/** One answered single prediction (the predict route's `Answered`) and the key that asked. */
export interface AnsweredPrediction extends Answered {
  key: ApiKeyRecord;
}

/** The inputs worth keeping for training: text fields as sent; images only as size and digest. */
function keptInput(sig: Signature, body: Record<string, unknown>): string | null {
  const kept: Record<string, unknown> = {};
  for (const i of sig.inputs) {
    const v = body[i.field] ?? body[`${i.field}_base64`];
    if (v === undefined) continue;
    if (v instanceof Uint8Array || i.type === 'image') {
      const bytes = v instanceof Uint8Array ? v : Buffer.from(String(v), 'base64');
      kept[i.field] = { bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
    } else kept[i.field] = v;
  }
  const json = JSON.stringify(kept);
  return json.length <= MAX_LOGGED_CHARS ? json : null;
}

/** The answer as logged: whole when it fits, else only its label/text fields, cut. */
function loggedOutput(item: JsonObject): string {
  const json = JSON.stringify(item);
  if (json.length <= MAX_LOGGED_CHARS) return json;
  const short: JsonObject = { truncated: true };
  for (const f of ['label', 'text']) {
    const v = item[f];
    if (typeof v === 'string') short[f] = v.slice(0, MAX_LOGGED_CHARS / 2 - 64);
  }
  return JSON.stringify(short);
}

/**
 * Writes predictions as the usage meter writes usage (store/group-commit.ts): those answered in the same
 * turn of the event loop share one transaction, and each answer waits for its own commit, so
 * feedback sent as soon as the answer arrives finds the prediction, on any replica.
 */
export class PredictionLog {
  private readonly now: () => number;
  private readonly commits: GroupCommit<PredictionRecord>;

  constructor(private readonly opts: PredictionLogOptions) {
    this.now = opts.now ?? Date.now;
    this.commits = new GroupCommit((batch) =>
      // A later prediction with the same request id replaces an earlier one: batches stay in order.
      opts.store
        .recordPredictions(batch)
        .catch((err: unknown) =>
          opts.logger.warn(
            { err, predictions: batch.length },
            'predictions not logged: the store write failed',
          ),
        ),
    );
  }

  /** Logs one answered prediction; resolves once committed. A store failure is logged, never thrown. */
  record(p: AnsweredPrediction): Promise<void> {
    const plan = this.opts.plans.plans[p.key.plan];
    const days = plan?.predictionRetentionDays ?? DEFAULT_PREDICTION_RETENTION_DAYS;
    const time = this.now();
    const label = typeof p.item['label'] === 'string' ? p.item['label'].slice(0, MAX_LABEL_CHARS) : null;
    return this.commits.add({
      keyId: p.key.id,
      requestId: p.requestId,
      model: p.model,
      version: p.version,
      output: loggedOutput(p.item),
      label,
      input: plan?.keepInputs === true ? keptInput(p.sig, p.body) : null,
      time,
      expiresAt: time + days * DAY_MS,
    });
  }

  /** Waits for every prediction accepted so far (at shutdown, before the store closes). */
  drain(): Promise<void> {
    return this.commits.drain();
  }

  /** Deletes expired predictions and their feedback; returns how many. */
  purge(): Promise<number> {
    return this.opts.store.purgePredictions(this.now());
  }
}

interface FeedbackBody {
  request_id: string;
  label?: string;
  text?: string;
}

function boundedString(v: unknown, name: string, max: number): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > max) {
    throw new InferdError('invalid_request', `'${name}' must be a string of 1 to ${max} characters`);
  }
  return v;
}

function readFeedbackBody(raw: unknown): FeedbackBody {
  if (!(raw instanceof Buffer) || raw.length === 0) {
    throw new InferdError('invalid_json', 'send a JSON object body (Content-Type: application/json)');
  }
  const v = parseJsonBody(raw, { maxValues: 16, why: 'a feedback body has at most 3 fields' });
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new InferdError('invalid_request', 'the request body must be a JSON object');
  }
  const o = v as Record<string, unknown>;
  const extra = Object.keys(o).filter((k) => !['request_id', 'label', 'text'].includes(k));
  if (extra.length > 0) {
    throw new InferdError(
      'invalid_request',
      `unknown field '${clip(extra[0])}'; a feedback body has request_id and label (or text)`,
    );
  }
  const body: FeedbackBody = {
    request_id: boundedString(o['request_id'], 'request_id', MAX_REQUEST_ID_CHARS),
  };
  if ((o['label'] === undefined) === (o['text'] === undefined)) {
    throw new InferdError(
      'invalid_request',
      "send exactly one of 'label' (the true label) or 'text' (the corrected text)",
    );
  }
  if (o['label'] !== undefined) body.label = boundedString(o['label'], 'label', MAX_LABEL_CHARS);
  else body.text = boundedString(o['text'], 'text', MAX_LOGGED_CHARS);
  return body;
}

/** The predicted text of a logged answer (models without labels: OCR's `text`). */
function predictedText(output: string): string | undefined {
  try {
    const o = JSON.parse(output) as Record<string, unknown>;
    return typeof o['text'] === 'string' && o['truncated'] !== true ? o['text'] : undefined;
  } catch {
    return undefined;
  }
}

export interface FeedbackRouteOptions {
  service: InferenceService;
  store?: Store;
  onFeedback?: FeedbackListener;
  now?: () => number;
}

interface FeedbackParams {
  name: string;
}

/** True for the feedback route: an account call (no model units, not metered as a model call). */
export function isFeedbackRoute(req: FastifyRequest): boolean {
  return req.routeOptions.url?.endsWith('/feedback') === true;
}

export function registerFeedbackRoutes(v1: FastifyInstance, opts: FeedbackRouteOptions): void {
  const now = opts.now ?? Date.now;
  v1.post('/models/:name/feedback', async (req: FastifyRequest<{ Params: FeedbackParams }>, reply) => {
    const { name } = req.params;
    const key = req.apiKey;
    if (key) requireScope(key, name);
    const body = readFeedbackBody(req.body);
    if (!opts.service.hasModel(name)) {
      throw new InferdError('model_not_found', `unknown model '${clip(name)}'`);
    }
    const notFound = (): InferdError =>
      new InferdError(
        'prediction_not_found',
        `no prediction '${clip(body.request_id)}' of model '${clip(name)}' by this key (unknown, batched, or past its retention)`,
      );
    if (!key || !opts.store) throw notFound(); // auth off: nothing is logged
    const p = await opts.store.getPrediction(key.id, body.request_id, now());
    if (!p || p.model !== name) throw notFound();
    const labels = opts.service.admit(name).config.labels;
    let correct: boolean | null = null;
    if (body.label !== undefined) {
      if (!labels) {
        throw new InferdError(
          'invalid_request',
          `model '${clip(name)}' has no labels; send the corrected 'text'`,
        );
      }
      if (!labels.includes(body.label)) {
        throw new InferdError(
          'invalid_request',
          `'${clip(body.label)}' is not a label of model '${clip(name)}' (${clip(labels.join(', '), 200)})`,
        );
      }
      correct = p.label === null ? null : p.label === body.label;
    } else {
      if (labels) {
        throw new InferdError(
          'invalid_request',
          `model '${clip(name)}' has labels; send 'label' (${clip(labels.join(', '), 200)})`,
        );
      }
      const predicted = predictedText(p.output);
      correct = predicted === undefined ? null : predicted.trim() === body.text!.trim();
    }
    const replaced = await opts.store.recordFeedback({
      keyId: key.id,
      requestId: p.requestId,
      label: body.label ?? null,
      text: body.text ?? null,
      correct,
      time: now(),
    });
    // Counted once per prediction: a replacement changes the stored label, not the count.
    if (!replaced) opts.onFeedback?.(p.model, p.version, correct);
    return reply.code(replaced ? 200 : 201).send({
      request_id: p.requestId,
      model: p.model,
      version: p.version,
      ...(body.label !== undefined ? { label: body.label } : {}),
      correct,
      replaced,
      input_kept: p.input !== null,
    });
  });
}
