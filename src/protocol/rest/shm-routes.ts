/**
 * Triton's shared-memory extension over REST (server docs/protocol/extension_shared_memory.md):
 * `/v2/systemsharedmemory[/region/{name}]/status|register|unregister`. CUDA shared memory has the
 * same routes under `/v2/cudasharedmemory`; this server has no GPU memory to share, so registering
 * answers 501 `unsupported`, while status (no regions) and unregister (nothing to do) succeed:
 * Triton's clients unregister every CUDA region before they start, GPU or not.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { clip } from '../../core/clip.js';
import { InferdError } from '../../errors.js';
import type { InferenceService } from '../../service/inference-service.js';
import { ENVELOPE_VALUES, parseJsonBody } from '../http/json-body.js';

type RegionParams = { region: string };

/** The register body: `{key, offset, byte_size}` (offset optional, default 0). */
function registerBody(raw: Buffer | undefined): { key: string; offset: number; byteSize: number } {
  const v =
    raw && raw.length > 0
      ? parseJsonBody(raw, {
          maxValues: ENVELOPE_VALUES,
          why: 'a register request holds a key, an offset and a size',
        })
      : undefined;
  const body = typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  const { key, offset = 0, byte_size: byteSize } = body;
  if (typeof key !== 'string')
    throw new InferdError('shm_invalid', "'key' must be the shared memory object's name");
  if (typeof offset !== 'number') throw new InferdError('shm_invalid', "'offset' must be a number of bytes");
  if (typeof byteSize !== 'number')
    throw new InferdError('shm_invalid', "'byte_size' must be a number of bytes");
  return { key, offset, byteSize };
}

function noCuda(): never {
  throw new InferdError(
    'unsupported',
    'CUDA shared memory is not supported: this server has no GPU memory to share; use system shared memory (/v2/systemsharedmemory)',
  );
}

/** No CUDA region can be registered, so a named one is never found. */
export function noCudaRegion(name: string): InferdError {
  return new InferdError('shm_region_not_found', `Unable to find cuda shared memory region: '${clip(name)}'`);
}

export function registerSharedMemoryRoutes(app: FastifyInstance, service: InferenceService): void {
  const shm = service.sharedMemory;
  app.get('/v2/systemsharedmemory/status', async () => shm.status());
  app.get(
    '/v2/systemsharedmemory/region/:region/status',
    async (req: FastifyRequest<{ Params: RegionParams }>) => shm.status(req.params.region),
  );
  app.post(
    '/v2/systemsharedmemory/region/:region/register',
    async (req: FastifyRequest<{ Params: RegionParams }>, reply: FastifyReply) => {
      const { key, offset, byteSize } = registerBody(req.body as Buffer | undefined);
      shm.register(req.params.region, key, offset, byteSize);
      return reply.code(200).send();
    },
  );
  app.post('/v2/systemsharedmemory/unregister', async (_req, reply) => {
    shm.unregister();
    return reply.code(200).send();
  });
  app.post(
    '/v2/systemsharedmemory/region/:region/unregister',
    async (req: FastifyRequest<{ Params: RegionParams }>, reply: FastifyReply) => {
      shm.unregister(req.params.region);
      return reply.code(200).send();
    },
  );
  app.get('/v2/cudasharedmemory/status', async () => []);
  app.get(
    '/v2/cudasharedmemory/region/:region/status',
    async (req: FastifyRequest<{ Params: RegionParams }>) => {
      throw noCudaRegion(req.params.region);
    },
  );
  app.post('/v2/cudasharedmemory/region/:region/register', noCuda);
  const nothing = async (_req: FastifyRequest, reply: FastifyReply) => reply.code(200).send();
  app.post('/v2/cudasharedmemory/unregister', nothing);
  app.post('/v2/cudasharedmemory/region/:region/unregister', nothing);
}
