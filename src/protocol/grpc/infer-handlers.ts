/**
 * ModelInfer (unary) and ModelStreamInfer (bidirectional). Both decode with infer-codec, attach the
 * call's deadline and cancellation, and call InferenceService.infer.
 *
 * Streaming contract: requests on one stream run concurrently (so they can batch together), and
 * each produces exactly one ModelStreamInferResponse, in completion order; match them by `id`.
 * A failed request does not end the stream: its response carries `error_message` and an
 * infer_response naming the model and id, with our stable code in parameters['inferd-error-code']. The stream ends once the client half-closes and every
 * request has been answered.
 *
 * With API keys required on /v2 inference (access policy), each request (each message on a
 * stream) passes the customer gate: key from the `authorization` metadata, scope, plan limits with
 * the plan's payload limit on the message's size on the wire, and a usage record committed before
 * the answer. Unary answers carry the rate-limit headers as trailing metadata, and the version that
 * answered in `x-model-version` (initial and trailing metadata; a stream's answers name it in their
 * messages' model_version, as a stream's metadata is one for all its requests).
 *
 * Backpressure: a stream stops taking requests (HTTP/2 flow control then holds the client back)
 * while MAX_STREAM_INFLIGHT of its requests are running, and while its responses are not being
 * read (call.write returned false) until 'drain'. Before, a client that sent requests and never
 * read the answers made the server compute all of them and buffer every response.
 */
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { clip, MESSAGE_CHARS } from '../../core/clip.js';
import { toInferdError } from '../../errors.js';
import type { CustomerGate } from '../../gateway/customer-gate.js';
import type { InferenceService } from '../../service/inference-service.js';
import { authorizationOf } from './access.js';
import { callContext } from './call-context.js';
import { ERROR_CODE_KEY, toServiceError } from './errors.js';
import { decodeInferRequest, encodeInferResponse } from './infer-codec.js';
import { prepare } from '../shm-tensors.js';
import { admittedOf, refusalOf } from './request-deserializer.js';
import type { WireInferRequest, WireInferResponse, WireStreamResponse } from './wire-types.js';

/**
 * Requests of one stream running at once: enough for a pipelining client to fill two batches of 64
 * rows (the largest max_batch_size in our models and benchmarks). A stream that sends more waits,
 * held back by HTTP/2 flow control, instead of holding one decoded request (up to the message
 * limit) per extra request in memory.
 */
const MAX_STREAM_INFLIGHT = 128;

interface InferLog {
  model: string;
  version?: string;
  queueMs?: number;
  computeMs?: number;
  status: string;
  ms: number;
}

/** Where a request message's size on the wire is kept (see measureInferRequests). */
const WIRE_BYTES = Symbol('wireBytes');

/**
 * The service definition with the infer requests' deserializers wrapped to remember each
 * message's size on the wire: the plan's payload limit applies to the bytes actually received.
 */
export function measureInferRequests(definition: grpc.ServiceDefinition): grpc.ServiceDefinition {
  const out: Record<string, grpc.MethodDefinition<unknown, unknown>> = { ...definition };
  for (const name of ['ModelInfer', 'ModelStreamInfer']) {
    const m = definition[name];
    if (!m) continue;
    out[name] = {
      ...m,
      requestDeserialize: (bytes: Buffer) => {
        const msg = m.requestDeserialize(bytes) as Record<symbol, number>;
        msg[WIRE_BYTES] = bytes.length;
        return msg;
      },
    };
  }
  return out;
}

function wireBytes(wire: WireInferRequest): number | undefined {
  return (wire as unknown as Record<symbol, number | undefined>)[WIRE_BYTES];
}

/** A request's answer or error, with the rate-limit headers of its gate call. */
interface Outcome {
  response?: WireInferResponse;
  error?: unknown;
  headers: Record<string, string>;
}

/** One request through the customer gate; the usage record is durable when this resolves. */
async function gatedOne(
  gate: CustomerGate,
  service: InferenceService,
  wire: WireInferRequest,
  authorization: string | undefined,
  ctx: { deadlineMs?: number; signal: AbortSignal },
  log: (line: InferLog) => void,
): Promise<Outcome> {
  const call = gate.call();
  const started = performance.now();
  const model = wire.model_name || undefined;
  let version = wire.model_version ?? '';
  const out: Outcome = { headers: {} };
  try {
    try {
      await gate.begin(call, { authorization, model, declaredBytes: wireBytes(wire) });
    } catch (err) {
      log({ model: clip(wire.model_name), status: toInferdError(err).code, ms: 0 });
      throw err;
    }
    // A canary splits by the API key (sticky per customer).
    out.response = await runOne(service, wire, { ...ctx, stickyKey: call.key?.id }, (line) => {
      version = line.version ?? version;
      log(line);
    });
  } catch (err) {
    out.error = err;
  }
  const status = out.error === undefined ? 200 : toInferdError(out.error).httpStatus;
  try {
    await gate.finish(call, { model, version, status, latencyMs: performance.now() - started });
  } catch (err) {
    out.response = undefined;
    out.error = err;
  }
  out.headers = call.headers;
  return out;
}

function trailerOf(headers: Record<string, string>): grpc.Metadata {
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries(headers)) md.set(k, v);
  return md;
}

/** The metadata key naming the version that answered, as the REST header (canary visibility). */
const VERSION_KEY = 'x-model-version';

/**
 * A unary answer with the version that computed it in `x-model-version`, in the initial metadata
 * (sent with the response) and in the trailers (beside the rate-limit headers), as REST sends it
 * as a header: a client sees its canary arm without decoding the message.
 */
function answer(
  call: grpc.ServerUnaryCall<WireInferRequest, WireInferResponse>,
  callback: grpc.sendUnaryData<WireInferResponse>,
  res: WireInferResponse,
  headers: Record<string, string> = {},
): void {
  const version: Record<string, string> = res.model_version ? { [VERSION_KEY]: res.model_version } : {};
  if (!call.cancelled) call.sendMetadata(trailerOf(version));
  callback(null, res, trailerOf({ ...headers, ...version }));
}

async function runOne(
  service: InferenceService,
  wire: WireInferRequest,
  ctx: { deadlineMs?: number; signal: AbortSignal; stickyKey?: string },
  log: (line: InferLog) => void,
): Promise<WireInferResponse> {
  const started = performance.now();
  // Client text in the log line is bounded (a 100 KB model_name made a 100 KB line per request).
  const line: InferLog = { model: clip(wire.model_name), status: 'OK', ms: 0 };
  if (wire.model_version) line.version = clip(wire.model_version);
  try {
    // Refused by the request deserializer (too large, unknown model, malformed) before decoding.
    const refused = refusalOf(wire);
    if (refused) throw refused;
    // The deserializer admitted the model version; a message without a model_name is refused below.
    let admitted =
      admittedOf(wire) ??
      (wire.model_name ? service.admit(wire.model_name, wire.model_version || undefined) : undefined);
    // The deserializer admitted before the key was known: a model in a rollout is split again by
    // the key, else by the request's id (the response's model_version says which answered).
    if (admitted && !wire.model_version && service.rollouts?.state(wire.model_name)) {
      admitted = service.admit(wire.model_name, undefined, ctx.stickyKey ?? (wire.id || undefined));
    }
    const { request } = decodeInferRequest(wire, admitted?.admission);
    request.signal = ctx.signal;
    if (ctx.deadlineMs !== undefined) request.deadlineMs = ctx.deadlineMs;
    const shm = prepare(service.sharedMemory, request, service.maxSharedMemoryReadBytes);
    const response = await service.infer(request, {
      admitted,
      requestKey: wire.id || undefined,
      timing: (t) => {
        line.version = t.version;
        line.queueMs = t.queueMs;
        line.computeMs = t.computeMs;
      },
    });
    shm.writeOutputs(response);
    return encodeInferResponse(response);
  } catch (err) {
    line.status = toInferdError(err).code;
    throw err;
  } finally {
    line.ms = Math.round((performance.now() - started) * 100) / 100;
    log(line);
  }
}

/** `gate`: given when the access policy requires customer keys for inference. */
export function inferHandlers(
  service: InferenceService,
  logger: Logger,
  gate?: CustomerGate,
): grpc.UntypedServiceImplementation {
  const log = (rpc: string) => (line: InferLog) => logger.info({ rpc, ...line }, 'request');

  /** One request, gated or not: its answer or error, and the headers to send with it. */
  const serve = async (
    wire: WireInferRequest,
    md: grpc.Metadata,
    ctx: { deadlineMs?: number; signal: AbortSignal },
    lineLog: (line: InferLog) => void,
  ): Promise<Outcome> => {
    if (gate) return gatedOne(gate, service, wire, authorizationOf(md), ctx, lineLog);
    try {
      return { response: await runOne(service, wire, ctx, lineLog), headers: {} };
    } catch (error) {
      return { error, headers: {} };
    }
  };

  const ModelInfer = (
    call: grpc.ServerUnaryCall<WireInferRequest, WireInferResponse>,
    callback: grpc.sendUnaryData<WireInferResponse>,
  ): void => {
    if (!gate) {
      runOne(service, call.request, callContext(call), log('ModelInfer')).then(
        (res) => answer(call, callback, res),
        (err: unknown) => callback(toServiceError(err, logger)),
      );
      return;
    }
    serve(call.request, call.metadata, callContext(call), log('ModelInfer')).then((o) => {
      if (o.error === undefined) answer(call, callback, o.response!, o.headers);
      else callback(toServiceError(o.error, logger, o.headers));
    });
  };

  const ModelStreamInfer = (call: grpc.ServerDuplexStream<WireInferRequest, WireStreamResponse>): void => {
    const ctx = callContext(call);
    let pending = 0;
    let halfClosed = false;
    /** The last write returned false: the client is not reading; wait for 'drain'. */
    let unread = false;
    const maybeEnd = (): void => {
      if (halfClosed && pending === 0 && !call.cancelled) call.end();
    };
    /** Reads the next request only while the stream has room for it (see the header comment). */
    const flow = (): void => {
      const hold = unread || pending >= MAX_STREAM_INFLIGHT;
      if (hold && !call.isPaused()) call.pause();
      else if (!hold && call.isPaused()) call.resume();
    };
    call.on('drain', () => {
      unread = false;
      flow();
    });
    call.on('data', (wire: WireInferRequest) => {
      pending += 1;
      flow();
      serve(wire, call.metadata, ctx, log('ModelStreamInfer'))
        .then((o): WireStreamResponse => {
          if (o.error === undefined) return { error_message: '', infer_response: o.response! };
          const e = toInferdError(o.error);
          toServiceError(e, logger); // logs server faults as unary calls do
          return {
            error_message: clip(e.message, MESSAGE_CHARS),
            infer_response: {
              // Bounded like every echo of client text in an error; the id is kept whole for matching.
              model_name: clip(wire.model_name),
              model_version: clip(wire.model_version ?? ''),
              id: wire.id ?? '',
              parameters: { [ERROR_CODE_KEY]: { string_param: e.code } },
              outputs: [],
            },
          };
        })
        .then((msg: WireStreamResponse) => {
          if (!call.cancelled && !call.write(msg)) unread = true;
          pending -= 1;
          flow();
          maybeEnd();
        });
    });
    call.on('end', () => {
      halfClosed = true;
      maybeEnd();
    });
    call.on('error', (err) => logger.debug({ err }, 'ModelStreamInfer stream error'));
  };

  return { ModelInfer, ModelStreamInfer };
}
