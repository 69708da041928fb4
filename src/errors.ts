/**
 * The one error catalogue. Every error a client can see has a stable `code` (clients branch on it),
 * and its HTTP and gRPC statuses are decided here, once. Status mapping follows Triton:
 * not found 404, unavailable 503, internal 500, unsupported 501, other client errors 400.
 */

/** gRPC status codes (grpc/status.h), kept numeric so the core does not import grpc-js. */
export const GrpcStatus = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

interface ErrorSpec {
  http: number;
  grpc: number;
  title: string;
  /**
   * A failure the operator should hear about: every transport logs these (and only these) as errors
   * with their stack. Refusals (load shedding, drain, limits) and what the client caused (its
   * deadline, its disconnect, its bad input) are answers: counted and access-logged like any other.
   */
  serverFault: boolean;
  /** When a client sees it: one line of docs/errors.md (generated from this table). */
  when: string;
}

export const ERROR_CATALOGUE = {
  // request shape and content
  invalid_json: {
    http: 400,
    grpc: GrpcStatus.INVALID_ARGUMENT,
    title: 'Malformed JSON',
    serverFault: false,
    when: 'the body is not JSON',
  },
  invalid_request: {
    http: 400,
    grpc: GrpcStatus.INVALID_ARGUMENT,
    title: 'Invalid request',
    serverFault: false,
    when: "the request's structure is wrong (missing `inputs`, bad `shape`, unknown datatype, bad `priority`/`timeout`, batch over `max_batch_size`; a Vertex AI body without `instances`; a platform request that names no model when the repository has several and no `--default-model` is set)",
  },
  invalid_input: {
    http: 400,
    grpc: GrpcStatus.INVALID_ARGUMENT,
    title: 'Invalid input tensor',
    serverFault: false,
    when: "an input's elements disagree with its shape or datatype (names the input and element); or the model cannot compute with sizes its declared shape leaves open (-1): names the input, the shape given and the shape declared",
  },
  unknown_input: {
    http: 400,
    grpc: GrpcStatus.INVALID_ARGUMENT,
    title: 'Unknown input',
    serverFault: false,
    when: "an input the model does not have; names it and lists the model's inputs",
  },
  missing_input: {
    http: 400,
    grpc: GrpcStatus.INVALID_ARGUMENT,
    title: 'Missing input',
    serverFault: false,
    when: "a required input is missing; names it and lists the model's inputs",
  },
  unknown_output: {
    http: 400,
    grpc: GrpcStatus.INVALID_ARGUMENT,
    title: 'Unknown output',
    serverFault: false,
    when: "a requested output the model does not have; names it and lists the model's outputs",
  },
  datatype_mismatch: {
    http: 400,
    grpc: GrpcStatus.INVALID_ARGUMENT,
    title: 'Datatype mismatch',
    serverFault: false,
    when: 'names the input, the datatype sent and the one the model expects',
  },
  shape_mismatch: {
    http: 400,
    grpc: GrpcStatus.INVALID_ARGUMENT,
    title: 'Shape mismatch',
    serverFault: false,
    when: 'names the input, the shape sent and the one the model expects',
  },
  invalid_image: {
    http: 400,
    grpc: GrpcStatus.INVALID_ARGUMENT,
    title: 'Invalid image',
    serverFault: false,
    when: "an image cannot be decoded, is not PNG/JPEG/WebP/TIFF (checked by its magic bytes), or is over the decode step's limits (bytes, pixels, longest side, aspect ratio, decode time)",
  },
  invalid_config: {
    http: 400,
    grpc: GrpcStatus.INVALID_ARGUMENT,
    title: 'Invalid model configuration',
    serverFault: false,
    when: "a model's config.pbtxt or config.json (or a setting or file it names) is invalid: the model is UNAVAILABLE with this reason (file, line, field) in `/v2/repository/index`; answered to clients only through the repository API",
  },
  model_load_failed: {
    http: 400,
    grpc: GrpcStatus.INVALID_ARGUMENT,
    title: 'Model load failed',
    serverFault: false,
    when: "the repository API's load left no version of the model READY: bad config, missing or unloadable model file; the message gives each version's reason (no server paths)",
  },
  model_control_disabled: {
    http: 400,
    grpc: GrpcStatus.FAILED_PRECONDITION,
    title: 'Model control disabled',
    serverFault: false,
    when: 'a repository API load or unload while `--model-control-mode` is `none` or `poll` (Triton refuses them the same way)',
  },
  payload_too_large: {
    http: 413,
    grpc: GrpcStatus.RESOURCE_EXHAUSTED,
    title: 'Payload too large',
    serverFault: false,
    when: "body over `--max-body-bytes`, or over the key's plan limit (counted on the bytes read, and again after gzip/deflate decompression, which stops at the limit)",
  },
  too_many_elements: {
    http: 413,
    grpc: GrpcStatus.RESOURCE_EXHAUSTED,
    title: 'Too many tensor elements',
    serverFault: false,
    when: 'more tensor elements than `--max-request-elements` or than the model can take, or a JSON body with more values than that allows ([configuration.md](configuration.md#request-size-tensor-elements)); counted before anything is allocated',
  },
  unsupported_media_type: {
    http: 415,
    grpc: GrpcStatus.INVALID_ARGUMENT,
    title: 'Unsupported media type',
    serverFault: false,
    when: "Content-Type that names another format (an image, multipart, …); JSON, no type, `text/plain` and curl's default `application/x-www-form-urlencoded` are read as JSON, binary tensors need `Inference-Header-Content-Length`. On SageMaker's `/invocations` also `text/csv` and image types, each only for a model it maps onto ([deploy/sagemaker.md](deploy/sagemaker.md)). Also a `Content-Encoding` other than gzip, deflate or identity (the answer's `Accept-Encoding` lists those)",
  },
  // routing
  not_found: {
    http: 404,
    grpc: GrpcStatus.NOT_FOUND,
    title: 'Not found',
    serverFault: false,
    when: 'unknown route',
  },
  model_not_found: {
    http: 404,
    grpc: GrpcStatus.NOT_FOUND,
    title: 'Model not found',
    serverFault: false,
    when: 'unknown model (its tensors are not decoded)',
  },
  version_not_found: {
    http: 404,
    grpc: GrpcStatus.NOT_FOUND,
    title: 'Model version not found',
    serverFault: false,
    when: 'unknown version or alias of a known model',
  },
  // availability and scheduling
  model_unavailable: {
    http: 503,
    grpc: GrpcStatus.UNAVAILABLE,
    title: 'Model unavailable',
    serverFault: false,
    when: 'the model exists but is not READY (the reason is in the message)',
  },
  server_draining: {
    http: 503,
    grpc: GrpcStatus.UNAVAILABLE,
    title: 'Server shutting down',
    serverFault: false,
    when: 'the server is shutting down; retry on another replica (`Retry-After: 1`)',
  },
  queue_full: {
    http: 503,
    grpc: GrpcStatus.UNAVAILABLE,
    title: 'Queue full',
    serverFault: false,
    when: "the model's queue is at its bound; `Retry-After` says when to retry",
  },
  deadline_exceeded: {
    http: 504,
    grpc: GrpcStatus.DEADLINE_EXCEEDED,
    title: 'Deadline exceeded',
    serverFault: false,
    when: "the request's deadline (`timeout` parameter, gRPC deadline or the model's default) passed while it was queued; it was not computed",
  },
  canceled: {
    http: 499,
    grpc: GrpcStatus.CANCELLED,
    title: 'Request canceled',
    serverFault: false,
    when: 'the client went away; queued work is dropped and a pipeline stops between steps',
  },
  repository_unavailable: {
    http: 503,
    grpc: GrpcStatus.UNAVAILABLE,
    title: 'Model repository unavailable',
    serverFault: true,
    when: 'a model load or reload (or the repository index) could not read object storage: missing bucket, denied credentials, network error or a download that failed its checks; the message says which, and the versions that served keep serving',
  },
  // rollout (src/service/rollout/, docs/lifecycle.md#rollout)
  rollout_conflict: {
    http: 409,
    grpc: GrpcStatus.FAILED_PRECONDITION,
    title: 'Rollout conflict',
    serverFault: false,
    when: "a rollout command its state does not allow: a second canary while one runs, promote without a canary, rollback with none or after the previous version's retention; or another replica changed the rollout at the same moment (retry)",
  },
  // system shared memory (Triton's extension; src/service/shared-memory.ts)
  shm_invalid: {
    http: 400,
    grpc: GrpcStatus.INVALID_ARGUMENT,
    title: 'Invalid shared memory use',
    serverFault: false,
    when: 'a shared-memory key that is not one shm_open name under /dev/shm, a symlink, missing or too small for offset + byte_size; or an input or output window beyond its registered region, or a byte size that disagrees with the tensor',
  },
  shm_region_exists: {
    http: 409,
    grpc: GrpcStatus.ALREADY_EXISTS,
    title: 'Shared memory region exists',
    serverFault: false,
    when: 'registering a system shared-memory region under a name already registered',
  },
  shm_region_not_found: {
    http: 400,
    grpc: GrpcStatus.INVALID_ARGUMENT,
    title: 'Unknown shared memory region',
    serverFault: false,
    when: 'a status request or an input or output names a shared-memory region that is not registered',
  },
  shm_limit: {
    http: 400,
    grpc: GrpcStatus.RESOURCE_EXHAUSTED,
    title: 'Shared memory limit',
    serverFault: false,
    when: 'registering one more region would pass the most regions or total registered bytes the server allows',
  },
  // server side
  unsupported: {
    http: 501,
    grpc: GrpcStatus.UNIMPLEMENTED,
    title: 'Not supported',
    serverFault: true,
    when: 'a feature the server does not implement (on `/v1`: the model declares no `signature`, so it has no task endpoint)',
  },
  backend_error: {
    http: 500,
    grpc: GrpcStatus.INTERNAL,
    title: 'Inference failed',
    serverFault: true,
    when: "the runtime failed; the message is plain, the runtime's own text (ONNX Runtime's, with its source paths) is only in the server log, with the request id",
  },
  internal: {
    http: 500,
    grpc: GrpcStatus.INTERNAL,
    title: 'Internal error',
    serverFault: true,
    when: 'a fault of inferd itself; logged with the request id',
  },
  // customer API (gateway)
  unauthenticated: {
    http: 401,
    grpc: GrpcStatus.UNAUTHENTICATED,
    title: 'Missing API key',
    serverFault: false,
    when: 'no `Authorization` header (on admin-token routes: no `Bearer` admin token)',
  },
  invalid_api_key: {
    http: 401,
    grpc: GrpcStatus.UNAUTHENTICATED,
    title: 'Invalid API key',
    serverFault: false,
    when: 'not `Bearer <key>`, malformed, failed checksum, or unknown',
  },
  expired_api_key: {
    http: 401,
    grpc: GrpcStatus.UNAUTHENTICATED,
    title: 'Expired API key',
    serverFault: false,
    when: "past the key's expiry (including the end of a rotation grace period)",
  },
  revoked_api_key: {
    http: 401,
    grpc: GrpcStatus.UNAUTHENTICATED,
    title: 'Revoked API key',
    serverFault: false,
    when: 'the key was revoked',
  },
  forbidden: {
    http: 403,
    grpc: GrpcStatus.PERMISSION_DENIED,
    title: 'Forbidden',
    serverFault: false,
    when: 'the key may not call this model; on admin-token routes, not the admin token, or (auth on) the server has no `--admin-token`',
  },
  rate_limited: {
    http: 429,
    grpc: GrpcStatus.RESOURCE_EXHAUSTED,
    title: 'Rate limit exceeded',
    serverFault: false,
    when: "the plan's rate or concurrency limit; `Retry-After` in seconds",
  },
  prediction_not_found: {
    http: 404,
    grpc: GrpcStatus.NOT_FOUND,
    title: 'Prediction not found',
    serverFault: false,
    when: "feedback names a `request_id` with no prediction of this model by this key: never made, made by another key, batched (not logged), or past the plan's retention ([lifecycle](lifecycle.md#feedback-and-drift))",
  },
  quota_exceeded: {
    http: 429,
    grpc: GrpcStatus.RESOURCE_EXHAUSTED,
    title: 'Quota exceeded',
    serverFault: false,
    when: "the plan's monthly units are used up; `x-should-retry: false`",
  },
  // responses: 413 as for payload_too_large, since the request asks for more than the server sends
  // and the remedy is the same (ask for less); gRPC's own status for an oversized message
  response_too_large: {
    http: 413,
    grpc: GrpcStatus.RESOURCE_EXHAUSTED,
    title: 'Response too large',
    serverFault: false,
    when: 'the outputs are over `--max-response-bytes` (ask for fewer rows or fewer outputs), or could not fit in a JSON text (ask for binary outputs); see [configuration](configuration.md#response-size)',
  },
  // connection limits (src/protocol/rest/connection-guard.ts)
  request_timeout: {
    http: 408,
    grpc: GrpcStatus.DEADLINE_EXCEEDED,
    title: 'Request timeout',
    serverFault: false,
    when: "the request's headers (`--headers-timeout-ms`) or the whole request (`--body-timeout-ms`) did not arrive in time; on gRPC, a unary call's request message; the connection is closed",
  },
  headers_too_large: {
    http: 431,
    grpc: GrpcStatus.INVALID_ARGUMENT,
    title: 'Request headers too large',
    serverFault: false,
    when: "the request headers are over Node's 16 KiB limit",
  },
  too_many_connections: {
    http: 503,
    grpc: GrpcStatus.UNAVAILABLE,
    title: 'Too many connections',
    serverFault: false,
    when: 'the connection is beyond `--max-connections`; `Retry-After: 1`, the connection is closed (gRPC: connections beyond it are closed unanswered)',
  },
  body_buffer_full: {
    http: 503,
    grpc: GrpcStatus.UNAVAILABLE,
    title: 'Request bodies over capacity',
    serverFault: false,
    when: 'the request bodies being received add up to `--max-buffered-body-bytes`; `Retry-After: 1`, the connection is closed',
  },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export class InferdError extends Error {
  readonly code: ErrorCode;
  /** Extra response headers the transport should send (e.g. Retry-After), lower-case names. */
  readonly headers: Record<string, string>;

  constructor(
    code: ErrorCode,
    message: string,
    options?: { cause?: unknown; headers?: Record<string, string> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'InferdError';
    this.code = code;
    this.headers = options?.headers ?? {};
  }

  /**
   * For errors answered at a high rate where a stack trace says nothing, such as load shedding:
   * capturing the stack cost ~4% of the event loop while refusing 1,300 requests/s (cpu profile,
   * 10× overload on the 2-core bench machine).
   */
  static withoutStack(
    code: ErrorCode,
    message: string,
    options?: { cause?: unknown; headers?: Record<string, string> },
  ): InferdError {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      return new InferdError(code, message, options);
    } finally {
      Error.stackTraceLimit = limit;
    }
  }

  get httpStatus(): number {
    return ERROR_CATALOGUE[this.code].http;
  }

  get grpcStatus(): number {
    return ERROR_CATALOGUE[this.code].grpc;
  }

  get title(): string {
    return ERROR_CATALOGUE[this.code].title;
  }
}

/** Wraps anything thrown into an InferdError; unknown errors become `internal`. */
export function toInferdError(err: unknown): InferdError {
  if (err instanceof InferdError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new InferdError('internal', message, { cause: err });
}

/** True for failures the operator should hear about (every transport logs these, and only these). */
export function isServerFault(e: InferdError): boolean {
  return ERROR_CATALOGUE[e.code].serverFault;
}

/**
 * Messages in Triton's own words, for the protocol errors that Triton's clients and example
 * scripts test by their text (`"Request for unknown model" in ex.message()`, simple_http_infer_client.py
 * and simple_*_health_metadata.py). Wording from Triton core's model_repository_manager.cc /
 * model_lifecycle.cc and the server's common.cc and grpc/infer_handler.cc; the stable `code` is
 * still sent beside it. What follows a `; ` is ours (what exists, what to do).
 */
export const tritonWording = {
  unknownModel: (model: string): string => `Request for unknown model: '${model}' is not found`,
  unknownVersion: (model: string, version: string): string =>
    `Request for unknown model: '${model}' version ${version} is not found`,
  malformedVersion: (version: string, detail: string): string =>
    `failed to get model version from specified version string '${version}' (details: ${detail}), version should be an integral value > 0`,
  mixedContents: (input: string, model: string): string =>
    `contents field must not be specified when using raw_input_contents for '${input}' for model '${model}'`,
};
