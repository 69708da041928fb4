/**
 * Loads proto/*.proto at run time (the files are not compiled into dist/). The folder is found by
 * walking up from this module, so the same code works from src/ (ts-node style) and dist/src/.
 * The loader options fix how messages look in JS; wire-types.ts describes the result.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

/** The repository's proto/ folder. */
export function protoDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'proto');
    if (existsSync(join(candidate, 'grpc_service.proto'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir)
      throw new Error(`proto/grpc_service.proto not found above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

export interface LoadedProtos {
  definition: protoLoader.PackageDefinition;
  inference: grpc.ServiceClientConstructor;
  health: grpc.ServiceClientConstructor;
  /** grpc.reflection v1 and v1alpha ServerReflection. */
  reflection: grpc.ServiceClientConstructor[];
}

const PROTO_FILES = ['grpc_service.proto', 'health.proto', 'reflection_v1.proto', 'reflection_v1alpha.proto'];

let cached: LoadedProtos | undefined;

export function loadProtos(): LoadedProtos {
  if (cached) return cached;
  const dir = protoDir();
  const definition = protoLoader.loadSync(
    PROTO_FILES.map((f) => join(dir, f)),
    {
      ...LOADER_OPTIONS,
      includeDirs: [dir],
    },
  );
  const root = grpc.loadPackageDefinition(definition);
  const inference = (root.inference as grpc.GrpcObject).GRPCInferenceService as grpc.ServiceClientConstructor;
  const healthPkg = ((root.grpc as grpc.GrpcObject).health as grpc.GrpcObject).v1 as grpc.GrpcObject;
  const reflectionPkg = (root.grpc as grpc.GrpcObject).reflection as grpc.GrpcObject;
  const reflection = ['v1', 'v1alpha'].map(
    (v) => (reflectionPkg[v] as grpc.GrpcObject).ServerReflection as grpc.ServiceClientConstructor,
  );
  cached = { definition, inference, health: healthPkg.Health as grpc.ServiceClientConstructor, reflection };
  return cached;
}
