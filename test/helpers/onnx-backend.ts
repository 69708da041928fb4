/** The ONNX backend loaded directly (no server) over a model written to a temp version folder. */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { parseModelConfig } from '../../src/core/model-config.js';
import type { Backend } from '../../src/runtime/backend.js';
import { onnxBackend } from '../../src/runtime/onnx/backend.js';
import { buildModel } from '../../src/training/graph-builder.js';

/** y = scale·x + offset over FP32 [N, 4]. */
export function affineModel(scale: number, offset: number): Uint8Array {
  return buildModel({
    inputs: [{ name: 'x', type: 'FLOAT', shape: ['N', 4] }],
    outputs: [{ name: 'y', type: 'FLOAT', shape: ['N', 4] }],
    initializers: [
      { name: 'scale', type: 'FLOAT', dims: [], values: [scale] },
      { name: 'offset', type: 'FLOAT', dims: [], values: [offset] },
    ],
    nodes: [
      { op: 'Mul', inputs: ['x', 'scale'], outputs: ['xs'] },
      { op: 'Add', inputs: ['xs', 'offset'], outputs: ['y'] },
    ],
  });
}

/** Loads `model` as version 1 of `name` with `config` (config.json fields). */
export function loadOnnxBackend(
  name: string,
  model: Uint8Array,
  config: Record<string, unknown>,
): Promise<Backend> {
  const dir = mkdtempSync(join(tmpdir(), `inferd-${name}-`));
  mkdirSync(join(dir, '1'));
  writeFileSync(join(dir, '1', 'model.onnx'), model);
  return onnxBackend.load({
    modelName: name,
    version: '1',
    versionDir: join(dir, '1'),
    config: parseModelConfig(config, name, [onnxBackend.configSection!]),
    invoker: { infer: () => Promise.reject(new Error('no calls')) } as never,
    logger: pino({ level: 'silent' }),
  });
}
