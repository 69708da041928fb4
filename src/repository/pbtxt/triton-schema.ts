/**
 * Triton's ModelConfig message type, read from the vendored proto/triton/model_config.proto (the
 * folder is found by walking up from this module, so src/ and dist/src/ both work; the Docker
 * image copies proto/). Loaded once, on the first config.pbtxt.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

const RELATIVE = join('proto', 'triton', 'model_config.proto');

let cached: protobuf.Type | undefined;

export function tritonModelConfigType(): protobuf.Type {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, RELATIVE);
    if (existsSync(candidate)) {
      const root = new protobuf.Root();
      root.loadSync(candidate, { keepCase: true });
      root.resolveAll();
      cached = root.lookupType('inference.ModelConfig');
      return cached;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`${RELATIVE} not found above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}
