/** Small promise wrappers over the raw gRPC stubs, for tests of RPCs outside InferClient. */
import * as grpc from '@grpc/grpc-js';

export interface CallResult<Res> {
  err: grpc.ServiceError | null;
  res?: Res;
}

type Unary = (
  req: unknown,
  md: grpc.Metadata,
  opts: grpc.CallOptions,
  cb: (err: grpc.ServiceError | null, res?: unknown) => void,
) => unknown;

/** Resolves with the error or the response (never rejects), so tests can assert on either. */
export function rawCall<Res>(
  client: grpc.Client,
  method: string,
  req: unknown,
  opts: grpc.CallOptions = {},
  md: grpc.Metadata = new grpc.Metadata(),
): Promise<CallResult<Res>> {
  const fn = (client as unknown as Record<string, Unary>)[method]!;
  return new Promise((resolve) => {
    fn.call(client, req, md, opts, (err, res) => resolve({ err, res: res as Res }));
  });
}

/** `authorization: Bearer <token>` metadata (admin token or API key). */
export function bearerMetadata(token: string): grpc.Metadata {
  const md = new grpc.Metadata();
  md.set('authorization', `Bearer ${token}`);
  return md;
}

/** Opens a server-streaming or bidi call by method name. */
export function openStream<T>(client: grpc.Client, method: string, ...args: unknown[]): T {
  const fn = (client as unknown as Record<string, (...a: unknown[]) => T>)[method]!;
  return fn.apply(client, args);
}
