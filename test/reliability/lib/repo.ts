/**
 * The suite's model repository, generated (nothing downloaded): the API fixtures (add, identity,
 * upper, add_noconfig, spam and ocr_echo with signatures), a slow model for the overload soak, an
 * amplifier (8 bytes in, 1 MiB out) for stream backpressure, broken models (their load errors show
 * in the repository index), pipelines that call themselves (issue 23 #12), and optionally the
 * embedded OCR models.
 */
import { cpSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildModel } from '../../../src/training/graph-builder.js';
import { makeApiRepository } from '../../api/fixtures.js';
import { addModel, slowModel, writeModel } from '../../fixtures/repository.js';

/** Floats per row of the amplifier's output: 1 MiB of FP32. */
const AMPLIFY_WIDTH = 262_144;

export interface RepoOptions {
  /** Copy the OCR pipeline and its three models from models/. */
  ocr?: boolean;
  /** Pipelines that call themselves, directly and through each other. */
  cycles?: boolean;
  /** Bad config, corrupt ONNX, missing file. */
  broken?: boolean;
  /** MatMul depth of `slow` (0 = leave it out). */
  slowDepth?: number;
  /** Include `amplify` (default true; the fuzzer leaves it out: 16 bytes can ask for 4 MiB). */
  amplify?: boolean;
  /** Keep only these models (a faster start where the others are not needed). */
  only?: string[];
}

/** x FP32 [N, 1] → y FP32 [N, AMPLIFY_WIDTH] (x broadcast along each row). */
function amplifyModel(): Uint8Array {
  return buildModel({
    inputs: [{ name: 'x', type: 'FLOAT', shape: ['N', 1] }],
    outputs: [{ name: 'y', type: 'FLOAT', shape: ['N', AMPLIFY_WIDTH] }],
    initializers: [{ name: 'wide', type: 'INT64', dims: [2], values: [1, AMPLIFY_WIDTH] }],
    nodes: [{ op: 'Expand', inputs: ['x', 'wide'], outputs: ['y'] }],
  });
}

/** A pipeline model whose one step calls `target` (itself or another pipeline). */
function loopConfig(target: string): object {
  return {
    backend: 'pipeline',
    max_batch_size: 0,
    input: [{ name: 'x', data_type: 'TYPE_FP32', dims: [1, 4] }],
    output: [{ name: 'y', data_type: 'TYPE_FP32', dims: [1, 4] }],
    pipeline: {
      max_concurrency: 2,
      steps: [{ name: 'again', model: target, inputs: { x: 'x' }, outputs: { y: 'y' } }],
    },
  };
}

function writePipeline(root: string, name: string, config: object): void {
  mkdirSync(join(root, name, '1'), { recursive: true });
  writeFileSync(join(root, name, 'config.json'), JSON.stringify(config, null, 2));
}

export function makeSuiteRepository(opts: RepoOptions = {}): string {
  const root = makeApiRepository();
  if (opts.amplify !== false) writeModel(root, 'amplify', 1, amplifyModel(), { max_batch_size: 0 });
  if (opts.slowDepth) {
    // A bounded queue, so that overload is refused (503 queue_full) instead of queued for ever.
    writeModel(root, 'slow', 1, slowModel(opts.slowDepth), {
      max_batch_size: 0,
      dynamic_batching: { max_queue_size: 16 },
    });
  }
  if (opts.broken) {
    writeModel(root, 'bad_config', 1, addModel());
    writeFileSync(join(root, 'bad_config', 'config.json'), '{ "max_batch_size": "eight" ');
    writeModel(root, 'corrupt', 1, 'this is not an ONNX file', {});
    mkdirSync(join(root, 'missing_file', '1'), { recursive: true });
  }
  if (opts.cycles) {
    writePipeline(root, 'loop_self', loopConfig('loop_self'));
    writePipeline(root, 'loop_a', loopConfig('loop_b'));
    writePipeline(root, 'loop_b', loopConfig('loop_a'));
  }
  if (opts.ocr) {
    for (const name of ['ocr', 'ocr-det', 'ocr-cls', 'ocr-rec']) {
      cpSync(resolve('models', name), join(root, name), { recursive: true });
    }
  }
  if (opts.only) {
    for (const name of readdirSync(root)) {
      if (!opts.only.includes(name)) rmSync(join(root, name), { recursive: true, force: true });
    }
  }
  return root;
}
