/**
 * ModelInfer (unary) and ModelStreamInfer (bidirectional). Both decode with infer-codec, attach the
 * call's deadline and cancellation, and call InferenceService.infer.
 *
 * Streaming contract: requests on one stream run concurrently (so they can batch together), and
 * each produces exactly one ModelStreamInferResponse, in completion order; match them by `id`.
 * A failed request does not end the stream: its response carries `error_message` and an
 * infer_response naming the model and id, with our stable code in parameters['inferd-error-code']. The stream ends once the client half-closes and every
 * request has been answered.
 */
import type * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { toInferdError } from '../../errors.js';
import type { InferenceService } from '../../service/inference-service.js';
import { callContext } from './call-context.js';
import { ERROR_CODE_KEY, toServiceError } from './errors.js';
import { decodeInferRequest, encodeInferResponse } from './infer-codec.js';
import { refusalOf } from './request-deserializer.js';
import type { WireInferRequest, WireInferResponse, WireStreamResponse } from './wire-types.js';

export interface InferLog {
  model: string;
  version?: string;
  queueMs?: number;
  computeMs?: number;
  status: string;
  ms: number;
}

async function runOne(
  service: InferenceService,
  wire: WireInferRequest,
  ctx: { deadlineMs?: number; signal: AbortSignal },
  log: (line: InferLog) => void,
): Promise<WireInferResponse> {
  const started = performance.now();
  const line: InferLog = { model: wire.model_name, status: 'OK', ms: 0 };
  if (wire.model_version) line.version = wire.model_version;
  try {
    // Refused by the request deserializer (too large, unknown model, malformed) before decoding.
    const refused = refusalOf(wire);
    if (refused) throw refused;
    const { request, encoding } = decodeInferRequest(wire, (m, v) => service.admission(m, v));
    request.signal = ctx.signal;
    if (ctx.deadlineMs !== undefined) request.deadlineMs = ctx.deadlineMs;
    const response = await service.infer(request, (t) => {
      line.version = t.version;
      line.queueMs = t.queueMs;
      line.computeMs = t.computeMs;
    });
    return encodeInferResponse(response, encoding);
  } catch (err) {
    line.status = toInferdError(err).code;
    throw err;
  } finally {
    line.ms = Math.round((performance.now() - started) * 100) / 100;
    log(line);
  }
}

export function inferHandlers(service: InferenceService, logger: Logger): grpc.UntypedServiceImplementation {
  const log = (rpc: string) => (line: InferLog) => logger.info({ rpc, ...line }, 'request');

  const ModelInfer = (
    call: grpc.ServerUnaryCall<WireInferRequest, WireInferResponse>,
    callback: grpc.sendUnaryData<WireInferResponse>,
  ): void => {
    runOne(service, call.request, callContext(call), log('ModelInfer')).then(
      (res) => callback(null, res),
      (err: unknown) => callback(toServiceError(err, logger)),
    );
  };

  const ModelStreamInfer = (call: grpc.ServerDuplexStream<WireInferRequest, WireStreamResponse>): void => {
    const ctx = callContext(call);
    let pending = 0;
    let halfClosed = false;
    const maybeEnd = (): void => {
      if (halfClosed && pending === 0 && !call.cancelled) call.end();
    };
    call.on('data', (wire: WireInferRequest) => {
      pending += 1;
      runOne(service, wire, ctx, log('ModelStreamInfer'))
        .then(
          (res) => ({ error_message: '', infer_response: res }),
          (err: unknown) => {
            const e = toInferdError(err);
            toServiceError(e, logger); // logs server faults as unary calls do
            return {
              error_message: e.message,
              infer_response: {
                model_name: wire.model_name,
                model_version: wire.model_version ?? '',
                id: wire.id ?? '',
                parameters: { [ERROR_CODE_KEY]: { string_param: e.code } },
                outputs: [],
              },
            };
          },
        )
        .then((msg: WireStreamResponse) => {
          if (!call.cancelled) call.write(msg);
          pending -= 1;
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
