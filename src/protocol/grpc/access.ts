/**
 * The access policy (src/gateway/access-policy.ts) on gRPC. Every method of every service the server
 * adds must have an entry, or start-up fails; admin-token methods check the `authorization`
 * metadata (`Bearer <token>`) before their handler runs; customer-key methods run the customer gate
 * in their handler, per message on a stream (infer-handlers.ts).
 */
import type * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { AccessControl } from '../../gateway/access.js';
import { grpcCategory } from '../../gateway/access-policy.js';
import { toServiceError } from './errors.js';

/** The methods that run the customer gate themselves (infer-handlers.ts). */
const GATED_METHODS: ReadonlySet<string> = new Set([
  '/inference.GRPCInferenceService/ModelInfer',
  '/inference.GRPCInferenceService/ModelStreamInfer',
]);

/** The `authorization` metadata value, as the HTTP header of the same name. */
export function authorizationOf(md: grpc.Metadata): string | undefined {
  const v = md.get('authorization')[0];
  return typeof v === 'string' ? v : undefined;
}

type UnaryHandler = (call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) => void;

/** `impl` with the policy applied to each method of `definition`; throws for an unclassified one. */
export function guardService(
  definition: grpc.ServiceDefinition,
  impl: grpc.UntypedServiceImplementation,
  access: AccessControl,
  logger: Logger,
): grpc.UntypedServiceImplementation {
  const out: grpc.UntypedServiceImplementation = {};
  for (const [name, method] of Object.entries(definition)) {
    const category = grpcCategory(method.path);
    if (category === undefined) {
      throw new Error(
        `gRPC method ${method.path} has no entry in the access policy (src/gateway/access-policy.ts)`,
      );
    }
    const handler = impl[name];
    if (handler === undefined) continue;
    const need = access.credential(category);
    if (need === 'none') {
      out[name] = handler;
    } else if (need === 'customer-key') {
      if (!GATED_METHODS.has(method.path)) {
        throw new Error(`gRPC method ${method.path} needs a customer key but does not run the customer gate`);
      }
      out[name] = handler;
    } else {
      if (method.requestStream || method.responseStream) {
        throw new Error(`gRPC method ${method.path}: admin-token methods must be unary`);
      }
      const unary = handler as UnaryHandler;
      out[name] = ((call, cb) => {
        try {
          access.requireAdmin(authorizationOf(call.metadata), category);
        } catch (err) {
          cb(toServiceError(err, logger));
          return;
        }
        unary(call, cb);
      }) satisfies UnaryHandler;
    }
  }
  return out;
}
