/**
 * The non-inference RPCs of GRPCInferenceService: health, metadata, config, statistics and the
 * model repository extension. Each decodes its request, calls InferenceService, encodes the answer.
 */
import type * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { InferdError } from '../../errors.js';
import type { InferenceService } from '../../service/inference-service.js';
import { toServiceError } from './errors.js';
import { modelConfigMessage } from './model-config.js';
import { loadOverrideFrom } from '../repository-load.js';
import type { WireModelRef, WireRepositoryRequest } from './wire-types.js';

type Unary<Req> = (call: grpc.ServerUnaryCall<Req, unknown>, callback: grpc.sendUnaryData<unknown>) => void;

/** Wraps a (possibly async) function into a unary handler with error mapping. */
function unary<Req>(logger: Logger, fn: (req: Req) => unknown): Unary<Req> {
  return (call, callback) => {
    Promise.resolve()
      .then(() => fn(call.request))
      .then(
        (res) => callback(null, res),
        (err: unknown) => callback(toServiceError(err, logger)),
      );
  };
}

/** Empty string = not given (proto3 has no absent strings). */
const opt = (s: string | undefined): string | undefined => (s ? s : undefined);

function requireName(name: string | undefined, field = 'name'): string {
  if (!name) throw new InferdError('invalid_request', `'${field}' is required`);
  return name;
}

export function adminHandlers(service: InferenceService, logger: Logger): grpc.UntypedServiceImplementation {
  return {
    ServerLive: unary(logger, () => ({ live: service.live() })),
    ServerReady: unary(logger, () => ({ ready: service.ready() })),
    ServerMetadata: unary(logger, () => service.serverMetadata()),
    ModelReady: unary(logger, (r: WireModelRef) => ({
      ready: service.modelReady(requireName(r.name), opt(r.version)),
    })),
    ModelMetadata: unary(logger, (r: WireModelRef) =>
      service.modelMetadata(requireName(r.name), opt(r.version)),
    ),
    ModelConfig: unary(logger, (r: WireModelRef) => {
      const cfg = service.modelConfig(requireName(r.name), opt(r.version));
      return { config: modelConfigMessage(cfg) };
    }),
    ModelStatistics: unary(logger, (r: WireModelRef) => ({
      model_stats: service.statistics(opt(r.name), opt(r.name) ? opt(r.version) : undefined),
    })),
    RepositoryIndex: unary(logger, async (r: { ready?: boolean }) => {
      const index = await service.repositoryIndex();
      const models = r.ready ? index.filter((e) => e.state === 'READY') : index;
      return {
        models: models.map((e) => ({
          name: e.name,
          version: e.version ?? '',
          state: e.state,
          reason: e.reason,
        })),
      };
    }),
    RepositoryModelLoad: unary(logger, async (r: WireRepositoryRequest) => {
      const params = r.parameters && Object.keys(r.parameters).length > 0 ? r.parameters : undefined;
      await service.loadModel(requireName(r.model_name, 'model_name'), loadOverrideFrom(params));
      return {};
    }),
    RepositoryModelUnload: unary(logger, async (r: WireRepositoryRequest) => {
      await service.unloadModel(requireName(r.model_name, 'model_name'));
      return {};
    }),
  };
}
