/**
 * Open Inference Protocol v2 client over gRPC (GRPCInferenceService from proto/grpc_service.proto).
 * Tensors travel as raw contents by default (the fast path); `encoding: 'typed'` uses the typed
 * `contents` fields instead. Errors become ClientError with the gRPC status and our stable code
 * from the `inferd-error-code` trailer.
 */
import * as grpc from '@grpc/grpc-js';
import type { InferenceResponse } from '../core/tensor.js';
import { ERROR_CODE_KEY } from '../protocol/grpc/errors.js';
import { decodeInferResponse, encodeInferRequest, type Encoding } from '../protocol/grpc/infer-codec.js';
import { loadProtos } from '../protocol/grpc/proto-files.js';
import type {
  WireInferRequest,
  WireInferResponse,
  WireModelMetadata,
  WireServerMetadata,
} from '../protocol/grpc/wire-types.js';
import type { ModelMetadata, ServerMetadata } from '../core/model.js';
import { ClientError, type CallOptions, type ClientRequest, type InferClient } from './types.js';

type Callback<Res> = (err: grpc.ServiceError | null, res?: Res) => void;
type UnaryMethod<Req, Res> = (
  req: Req,
  md: grpc.Metadata,
  opts: grpc.CallOptions,
  cb: Callback<Res>,
) => grpc.ClientUnaryCall;

export interface GrpcClientOptions {
  /** How request tensors are sent (default raw); the server answers in raw_output_contents either way, as Triton. */
  encoding?: Encoding;
}

/** Our code from the trailer; else a best guess from the status (e.g. grpc-js size limits). */
function codeOf(err: grpc.ServiceError): string {
  const given = err.metadata?.get(ERROR_CODE_KEY)[0];
  if (typeof given === 'string' && given) return given;
  if (err.code === grpc.status.RESOURCE_EXHAUSTED && /larger than max/i.test(err.details))
    return 'payload_too_large';
  if (err.code === grpc.status.DEADLINE_EXCEEDED) return 'deadline_exceeded';
  if (err.code === grpc.status.CANCELLED) return 'canceled';
  return 'unknown';
}

function clientErrorFrom(err: grpc.ServiceError): ClientError {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(err.metadata?.getMap() ?? {})) headers[k] = String(v);
  return new ClientError(err.details || err.message, codeOf(err), err.code, headers);
}

function toMetadata(headers: Record<string, string> | undefined): grpc.Metadata {
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries(headers ?? {})) md.set(k.toLowerCase(), v);
  return md;
}

export class GrpcClient implements InferClient {
  readonly transport: InferClient['transport'] = 'grpc';
  /** The generated stub, for RPCs outside InferClient (streaming, repository, statistics). */
  readonly stub: grpc.Client;
  readonly health: grpc.Client;
  private readonly encoding: Encoding;

  constructor(
    readonly target: string,
    options: GrpcClientOptions = {},
  ) {
    const protos = loadProtos();
    const channelOptions = { 'grpc.max_receive_message_length': -1, 'grpc.max_send_message_length': -1 };
    this.stub = new protos.inference(target, grpc.credentials.createInsecure(), channelOptions);
    this.health = new protos.health(target, grpc.credentials.createInsecure(), channelOptions);
    this.encoding = options.encoding ?? 'raw';
  }

  /** Calls one unary RPC of GRPCInferenceService (or of `client`, e.g. the health stub). */
  call<Req, Res>(
    method: string,
    req: Req,
    options?: CallOptions,
    client: grpc.Client = this.stub,
  ): Promise<Res> {
    const fn = (client as unknown as Record<string, UnaryMethod<Req, Res>>)[method];
    if (typeof fn !== 'function') return Promise.reject(new Error(`no RPC ${method}`));
    const opts: grpc.CallOptions = options?.timeoutMs ? { deadline: Date.now() + options.timeoutMs } : {};
    return new Promise<Res>((resolve, reject) => {
      const call = fn.call(client, req, toMetadata(options?.headers), opts, (err, res) => {
        if (err) reject(clientErrorFrom(err));
        else resolve(res as Res);
      });
      const signal = options?.signal;
      if (signal) {
        if (signal.aborted) call.cancel();
        else signal.addEventListener('abort', () => call.cancel(), { once: true });
      }
    });
  }

  async serverLive(): Promise<boolean> {
    return (await this.call<object, { live: boolean }>('ServerLive', {})).live;
  }

  async serverReady(): Promise<boolean> {
    return (await this.call<object, { ready: boolean }>('ServerReady', {})).ready;
  }

  serverMetadata(): Promise<ServerMetadata> {
    return this.call<object, WireServerMetadata>('ServerMetadata', {});
  }

  async modelMetadata(name: string, version?: string): Promise<ModelMetadata> {
    const md = await this.call<object, WireModelMetadata>('ModelMetadata', { name, version: version ?? '' });
    const spec = (t: WireModelMetadata['inputs'][number]) => ({
      name: t.name,
      datatype: t.datatype as ModelMetadata['inputs'][number]['datatype'],
      shape: t.shape.map(Number),
    });
    return {
      name: md.name,
      versions: md.versions,
      platform: md.platform,
      inputs: md.inputs.map(spec),
      outputs: md.outputs.map(spec),
    };
  }

  async modelReady(name: string, version?: string): Promise<boolean> {
    return (await this.call<object, { ready: boolean }>('ModelReady', { name, version: version ?? '' }))
      .ready;
  }

  async infer(request: ClientRequest, options?: CallOptions): Promise<InferenceResponse> {
    const wire = encodeInferRequest(request, this.encoding);
    const res = await this.call<WireInferRequest, WireInferResponse>('ModelInfer', wire, options);
    try {
      return decodeInferResponse(res);
    } catch (err) {
      throw new ClientError(
        `the server sent an invalid response: ${(err as Error).message}`,
        'invalid_response',
        0,
      );
    }
  }

  async close(): Promise<void> {
    this.stub.close();
    this.health.close();
  }
}
