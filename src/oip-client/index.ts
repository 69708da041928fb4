/** One entry point for every transport's client. */
import { GrpcClient, type GrpcClientOptions } from './grpc.js';
import { RestBinaryClient } from './rest-binary.js';
import { RestJsonClient } from './rest-json.js';
import type { InferClient, Transport } from './types.js';

export { type InferClient, type Transport } from './types.js';

/**
 * `url`: http://host:port for the REST transports; host:port (a `grpc://` prefix is accepted) for gRPC.
 */
export function createClient(
  transport: Transport,
  url: string,
  options: GrpcClientOptions = {},
): InferClient {
  switch (transport) {
    case 'rest-json':
      return new RestJsonClient(url.replace(/\/+$/, ''));
    case 'rest-binary':
      return new RestBinaryClient(url.replace(/\/+$/, ''));
    case 'grpc':
      return new GrpcClient(url.replace(/^grpc:\/\//, ''), options);
    default:
      throw new Error(`unknown transport '${String(transport)}'; use rest-json, rest-binary or grpc`);
  }
}
