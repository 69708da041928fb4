/**
 * gRPC calls over a bare HTTP/2 session, for tests that need what grpc-js's client never sends: a
 * chosen `grpc-timeout` header, or a request message that stops half-way.
 */
import { connect } from 'node:http2';
import { loadProtos } from '../../src/protocol/grpc/proto-files.js';

export interface RawGrpcResult {
  /** From the trailers (or a trailers-only response); undefined when the stream was reset. */
  grpcStatus?: string;
  grpcMessage?: string;
  errorCode?: string;
  /** Response messages, unframed. */
  messages: Buffer[];
}

/** The serialized request of a GRPCInferenceService method. */
export function serialize(method: string, request: unknown): Buffer {
  const def = loadProtos().inference.service[method]!;
  return def.requestSerialize(request);
}

/** A response message of a GRPCInferenceService method, decoded. */
export function deserialize<T>(method: string, message: Buffer): T {
  return loadProtos().inference.service[method]!.responseDeserialize(message) as T;
}

/** The messages of a stream of gRPC frames. */
export function unframe(data: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let off = 0; off + 5 <= data.length;) {
    const len = data.readUInt32BE(off + 1);
    out.push(data.subarray(off + 5, off + 5 + len));
    off += 5 + len;
  }
  return out;
}

/** A length-prefixed gRPC message frame (uncompressed). */
export function frame(message: Uint8Array): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(message.length, 1);
  return Buffer.concat([head, message]);
}

/**
 * One call on a fresh HTTP/2 session: sends `headers` and `body` (ending the request only when
 * `end`), resolves when the stream closes (bounded by `timeoutMs`).
 */
export function rawGrpcCall(
  target: string,
  method: string,
  body: Buffer,
  opts: { headers?: Record<string, string>; end?: boolean; timeoutMs?: number } = {},
): Promise<RawGrpcResult> {
  const session = connect(`http://${target}`);
  session.on('error', () => undefined);
  return new Promise((resolve, reject) => {
    const result: RawGrpcResult = { messages: [] };
    const take = (h: Record<string, unknown>): void => {
      if (h['grpc-status'] !== undefined) result.grpcStatus = String(h['grpc-status']);
      if (h['grpc-message'] !== undefined) result.grpcMessage = decodeURIComponent(String(h['grpc-message']));
      if (h['inferd-error-code'] !== undefined) result.errorCode = String(h['inferd-error-code']);
    };
    const timer = setTimeout(() => {
      session.destroy();
      reject(new Error(`no end of the ${method} call within ${opts.timeoutMs ?? 10_000} ms`));
    }, opts.timeoutMs ?? 10_000);
    const req = session.request({
      ':method': 'POST',
      ':path': `/inference.GRPCInferenceService/${method}`,
      'content-type': 'application/grpc',
      te: 'trailers',
      ...opts.headers,
    });
    let data = Buffer.alloc(0);
    req.on('response', take);
    req.on('trailers', take);
    req.on('data', (d: Buffer) => (data = Buffer.concat([data, d])));
    req.on('error', () => undefined);
    req.on('close', () => {
      clearTimeout(timer);
      result.messages = unframe(data);
      session.close();
      resolve(result);
    });
    if (opts.end === false) req.write(body);
    else req.end(body);
  });
}
