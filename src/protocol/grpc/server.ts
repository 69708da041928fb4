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
import { guardHttp2Servers } from './http2-guard.js';
import { inferHandlers, measureInferRequests } from './infer-handlers.js';
import { loadProtos, type LoadedProtos } from './proto-files.js';
import { guardInferRequests } from './request-deserializer.js';
import { reflectionHandlers } from './reflection.js';
import { sharedMemoryHandlers } from './shm-handlers.js';

export interface GrpcServerOptions {
  logger: Logger;
  /** Largest request message in bytes (RESOURCE_EXHAUSTED beyond). */
  maxMessageBytes: number;
  /** The access policy: every method is checked against it when the services are added. */
  access: AccessControl;
  /** Connection limits; the HTTP server has the same ones (settings in src/config.ts). */
  limits: GrpcLimits;
}

interface GrpcLimits {
  /** Connections at once; more are closed as they arrive. */
  maxConnections: number;
  /** A unary call's request message must arrive within this (ms). */
  requestTimeoutMs: number;
  /** A connection with no call for this long is closed with GOAWAY (ms). */
  idleTimeoutMs: number;
  /** Calls at once on one connection (HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS); clients queue the rest. */
  maxConcurrentStreams: number;
  /** 0 = none; else connections are closed with GOAWAY after about this long (±10%), in ms. */
  maxConnectionAgeMs: number;
  /** After that GOAWAY, calls still running get this long before the connection is cut (ms). */
  maxConnectionAgeGraceMs: number;
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
  const { limits } = opts;
  const server = new grpc.Server({
    'grpc.max_receive_message_length': opts.maxMessageBytes,
    // Responses can be larger than requests (e.g. typed contents); -1 = no limit on what we send.
    'grpc.max_send_message_length': -1,
    'grpc.max_concurrent_streams': limits.maxConcurrentStreams,
    'grpc.max_connection_idle_ms': limits.idleTimeoutMs,
    ...(limits.maxConnectionAgeMs > 0
      ? {
          'grpc.max_connection_age_ms': limits.maxConnectionAgeMs,
          'grpc.max_connection_age_grace_ms': limits.maxConnectionAgeGraceMs,
        }
      : {}),
    // grpc-node.max_session_memory is left unbounded, as grpc-js does on purpose (Node's HTTP/2
    // degrades badly at that limit, server.ts in grpc-js); memory per connection is bounded instead
    // by max_concurrent_streams × the message limit and by ModelStreamInfer's backpressure.
  });
  guardHttp2Servers(server, {
    maxConnections: limits.maxConnections,
    requestTimeoutMs: limits.requestTimeoutMs,
    streamingPaths: streamingPaths(protos),
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
    guard(inference, {
      ...adminHandlers(service, logger),
      ...sharedMemoryHandlers(service.sharedMemory, logger),
      ...inferHandlers(service, logger, gate),
    }),
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

/** Paths of every method whose request side is a stream (it stays open by design). */
function streamingPaths(protos: LoadedProtos): Set<string> {
  const paths = new Set<string>();
  for (const svc of [protos.inference, protos.health, ...protos.reflection]) {
    for (const method of Object.values(svc.service)) if (method.requestStream) paths.add(method.path);
  }
  return paths;
}
