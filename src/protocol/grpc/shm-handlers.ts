/**
 * Triton's shared-memory RPCs (grpc_service.proto): SystemSharedMemoryStatus / Register /
 * Unregister over the same registry as REST. No GPU here: CudaSharedMemoryRegister answers
 * UNIMPLEMENTED with our code; CUDA status lists no regions and unregister has nothing to do
 * (shm-routes.ts says why). uint64 fields arrive as decimal strings (proto-files.ts: longs).
 */
import type * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { InferdError } from '../../errors.js';
import type { SharedMemoryRegistry } from '../../service/shared-memory.js';
import { noCudaRegion } from '../rest/shm-routes.js';
import { toServiceError } from './errors.js';

type Unary = (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => void;

interface RegisterRequest {
  name?: string;
  key?: string;
  offset?: string | number;
  byte_size?: string | number;
}

function unary<Req>(logger: Logger, fn: (req: Req) => unknown): Unary {
  return (call, callback) => {
    try {
      callback(null, fn(call.request as Req));
    } catch (err) {
      callback(toServiceError(err, logger));
    }
  };
}

/** A uint64 as a JS number: beyond 2^53 it could not address a file anyway. */
function bytes(v: string | number | undefined, field: string): number {
  const n = Number(v ?? 0);
  if (!Number.isSafeInteger(n)) throw new InferdError('shm_invalid', `'${field}' is too large`);
  return n;
}

export function sharedMemoryHandlers(
  shm: SharedMemoryRegistry,
  logger: Logger,
): grpc.UntypedServiceImplementation {
  const cudaRegister = unary(logger, () => {
    throw new InferdError(
      'unsupported',
      'CUDA shared memory is not supported: this server has no GPU memory to share; use system shared memory',
    );
  });
  return {
    SystemSharedMemoryStatus: unary(logger, (r: { name?: string }) => ({
      regions: Object.fromEntries(shm.status(r.name || undefined).map((s) => [s.name, s])),
    })),
    SystemSharedMemoryRegister: unary(logger, (r: RegisterRequest) => {
      shm.register(r.name ?? '', r.key ?? '', bytes(r.offset, 'offset'), bytes(r.byte_size, 'byte_size'));
      return {};
    }),
    SystemSharedMemoryUnregister: unary(logger, (r: { name?: string }) => {
      shm.unregister(r.name || undefined);
      return {};
    }),
    CudaSharedMemoryStatus: unary(logger, (r: { name?: string }) => {
      if (r.name) throw noCudaRegion(r.name);
      return { regions: {} };
    }),
    CudaSharedMemoryRegister: cudaRegister,
    CudaSharedMemoryUnregister: unary(logger, () => ({})),
  };
}
