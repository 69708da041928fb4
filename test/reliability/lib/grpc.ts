/**
 * gRPC from the suite: unary calls with raw bytes (any message, valid or not, exactly as sent on
 * the wire) and with objects through the service's own stubs, always with a deadline, returning the
 * status, details and our `inferd-error-code` trailer instead of throwing.
 */
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { isAbsolute, join } from 'node:path';
import { ERROR_CODE_KEY } from '../../../src/protocol/grpc/errors.js';
import { loadProtos, protoDir } from '../../../src/protocol/grpc/proto-files.js';

const SERVICE = '/inference.GRPCInferenceService/';

/** Status of a call that got no answer within the suite's bound (it was cancelled). */
export const NO_ANSWER = -1;

export interface GrpcAnswer {
  /** gRPC status code, or NO_ANSWER. */
  status: number;
  details: string;
  trailerCode?: string;
  /** The response message (raw bytes for rawUnary, an object for unaryCall). */
  response?: unknown;
  ms: number;
}

const identity = (b: Buffer): Buffer => b;
const CHANNEL_OPTIONS = {
  'grpc.max_receive_message_length': -1,
  'grpc.max_send_message_length': -1,
};

export function rawClient(address: string): grpc.Client {
  return new grpc.Client(address, grpc.credentials.createInsecure(), CHANNEL_OPTIONS);
}

export function inferenceClient(address: string): grpc.Client {
  return new (loadProtos().inference)(address, grpc.credentials.createInsecure(), CHANNEL_OPTIONS);
}

export function metadataOf(headers: Record<string, string> = {}): grpc.Metadata {
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries(headers)) md.set(k, v);
  return md;
}

function answerOf(err: grpc.ServiceError | null, started: number, response?: unknown): GrpcAnswer {
  if (!err) return { status: 0, details: '', response, ms: performance.now() - started };
  const code = err.metadata?.get(ERROR_CODE_KEY)[0];
  return {
    status: err.code,
    details: err.details ?? '',
    ...(typeof code === 'string' ? { trailerCode: code } : {}),
    ms: performance.now() - started,
  };
}

/**
 * Runs one call with a guard: whatever its deadline (a test may set one 30 days away), an answer
 * that has not come within `timeoutMs` cancels the call and reports NO_ANSWER.
 */
function guarded(
  timeoutMs: number,
  start: (done: (a: GrpcAnswer) => void) => { cancel(): void },
): Promise<GrpcAnswer> {
  const started = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    const done = (a: GrpcAnswer): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(a);
    };
    const call = start(done);
    const timer = setTimeout(() => {
      done({ status: NO_ANSWER, details: 'no answer within the bound', ms: performance.now() - started });
      call.cancel();
    }, timeoutMs + 1000);
  });
}

/** One unary call of `method` with `bytes` as the request message. */
export function rawUnary(
  client: grpc.Client,
  method: string,
  bytes: Buffer,
  timeoutMs: number,
  headers: Record<string, string> = {},
  deadline?: Date,
): Promise<GrpcAnswer> {
  const started = performance.now();
  return guarded(timeoutMs, (done) =>
    client.makeUnaryRequest(
      SERVICE + method,
      identity,
      identity,
      bytes,
      metadataOf(headers),
      { deadline: deadline ?? new Date(Date.now() + timeoutMs) },
      (err, res) => done(answerOf(err, started, res)),
    ),
  );
}

type Unary = (
  req: unknown,
  md: grpc.Metadata,
  opts: grpc.CallOptions,
  cb: (err: grpc.ServiceError | null, res?: unknown) => void,
) => grpc.ClientUnaryCall;

/** One unary call through the generated stub (`method` as in the proto, e.g. 'ModelReady'). */
export function unaryCall(
  client: grpc.Client,
  method: string,
  request: unknown,
  timeoutMs: number,
  headers: Record<string, string> = {},
  deadline?: Date,
): Promise<GrpcAnswer> {
  const started = performance.now();
  const fn = (client as unknown as Record<string, Unary>)[method]!;
  return guarded(timeoutMs, (done) =>
    fn.call(
      client,
      request,
      metadataOf(headers),
      { deadline: deadline ?? new Date(Date.now() + timeoutMs) },
      (err, res) => done(answerOf(err, started, res)),
    ),
  );
}

let root: protobuf.Root | undefined;

/** The inference package's messages (protobufjs), to encode requests the fuzzer then mutates. */
export function messageType(name: string): protobuf.Type {
  if (!root) {
    const dir = protoDir();
    root = new protobuf.Root();
    // Imports are relative to proto/ (grpc_service.proto imports triton/model_config.proto).
    root.resolvePath = (_origin, target) => (isAbsolute(target) ? target : join(dir, target));
    root.loadSync('grpc_service.proto', { keepCase: true });
  }
  return root.lookupType(`inference.${name}`);
}
