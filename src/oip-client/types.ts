/**
 * The protocol client's one interface, implemented per transport (REST JSON, REST binary, gRPC).
 * Used by `inferd bench`, the conformance suite and the tests. Errors carry our stable `code`.
 */
import type { InferenceRequest, InferenceResponse } from '../core/tensor.js';
import type { ModelMetadata, ServerMetadata } from '../core/model.js';

export type Transport = 'rest-json' | 'rest-binary' | 'grpc';

export interface CallOptions {
  signal?: AbortSignal;
  /** Client-side deadline (gRPC deadline; REST aborts the request). */
  timeoutMs?: number;
  headers?: Record<string, string>;
}

export type ClientRequest = Omit<InferenceRequest, 'signal' | 'deadlineMs'>;

export interface InferClient {
  readonly transport: Transport;
  serverLive(): Promise<boolean>;
  serverReady(): Promise<boolean>;
  serverMetadata(): Promise<ServerMetadata>;
  modelMetadata(name: string, version?: string): Promise<ModelMetadata>;
  modelReady(name: string, version?: string): Promise<boolean>;
  infer(request: ClientRequest, options?: CallOptions): Promise<InferenceResponse>;
  close(): Promise<void>;
}

/** A failed call: `code` is inferd's stable error code when the server sent one. */
export class ClientError extends Error {
  constructor(
    message: string,
    /** Our catalogue code (`queue_full`, `model_not_found`, ...), or `unknown`. */
    readonly code: string,
    /** HTTP status for REST, gRPC status code for gRPC. */
    readonly status: number,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ClientError';
  }
}
