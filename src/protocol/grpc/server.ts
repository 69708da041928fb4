/**
 * The gRPC server: GRPCInferenceService, grpc.health.v1.Health and server reflection on one port. Message size
 * limits come from the same setting as the HTTP body limit, so both transports refuse the same
 * payloads (grpc-js answers RESOURCE_EXHAUSTED for oversized messages before our code runs).
 */
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { AccessControl } from '../../gateway/access.js';
import type { InferenceService } from '../../service/inference-service.js';
import { guardService } from './access.js';
import { adminHandlers } from './admin-handlers.js';
import { healthService } from './health.js';
import { inferHandlers, measureInferRequests } from './infer-handlers.js';
import { loadProtos } from './proto-files.js';
import { guardInferRequests } from './request-deserializer.js';
import { reflectionHandlers } from './reflection.js';

export interface GrpcServerOptions {
  logger: Logger;
  /** Largest request message in bytes (RESOURCE_EXHAUSTED beyond). */
  maxMessageBytes: number;
  /** The access policy: every method is checked against it when the services are added. */
  access: AccessControl;
}

export interface GrpcServer {
  /** Binds and serves; resolves to the port actually bound (port 0 picks a free one). */
  start(host: string, port: number): Promise<number>;
  /**
   * Stops accepting calls, ends health watches, lets in-flight calls finish up to `timeoutMs`, then
   * cancels whatever is left.
   */
  close(timeoutMs: number): Promise<void>;
}

export function createGrpcServer(service: InferenceService, opts: GrpcServerOptions): GrpcServer {
  const protos = loadProtos();
  const server = new grpc.Server({
    'grpc.max_receive_message_length': opts.maxMessageBytes,
    // Responses can be larger than requests (e.g. typed contents); -1 = no limit on what we send.
    'grpc.max_send_message_length': -1,
  });
  const logger = opts.logger.child({ transport: 'grpc' });
  const { access } = opts;
  const gate = access.credential('inference') === 'customer-key' ? access.gate : undefined;
  // ModelInfer requests are scanned and bounded before protobufjs decodes them (issue 23).
  const guarded = guardInferRequests(protos.inference.service, service);
  const inference = gate ? measureInferRequests(guarded) : guarded;
  const guard = (def: grpc.ServiceDefinition, impl: grpc.UntypedServiceImplementation) =>
    guardService(def, impl, access, logger);
  server.addService(
    inference,
    guard(inference, { ...adminHandlers(service, logger), ...inferHandlers(service, logger, gate) }),
  );
  const health = healthService(service);
  server.addService(protos.health.service, guard(protos.health.service, health.handlers));
  const reflection = reflectionHandlers(protos.definition, [
    'inference.GRPCInferenceService',
    'grpc.health.v1.Health',
    'grpc.reflection.v1.ServerReflection',
    'grpc.reflection.v1alpha.ServerReflection',
  ]);
  for (const svc of protos.reflection) server.addService(svc.service, guard(svc.service, reflection));

  return {
    start: (host, port) =>
      new Promise((resolve, reject) => {
        const addr = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
        server.bindAsync(addr, grpc.ServerCredentials.createInsecure(), (err, bound) => {
          if (err) reject(new Error(`gRPC cannot listen on ${addr}: ${err.message} (--grpc-port)`));
          else resolve(bound);
        });
      }),
    close: (timeoutMs) =>
      new Promise<void>((resolve) => {
        health.closeAll();
        const timer = setTimeout(() => {
          logger.warn('gRPC calls still running at the shutdown timeout; cancelling them');
          server.forceShutdown();
          resolve();
        }, timeoutMs);
        timer.unref();
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
  };
}
