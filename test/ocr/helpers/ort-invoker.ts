/**
 * A real ModelInvoker for tests while the server core is built elsewhere: it runs the repository's
 * ONNX models (ocr-det, ocr-cls, ocr-rec, read from models/<name>/config.json) with
 * onnxruntime-node in-process, and loads the `ocr` pipeline through the pipeline backend's load().
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import ort from 'onnxruntime-node';
import { pino } from 'pino';
import {
  BytesData,
  type InferenceRequest,
  type InferenceResponse,
  type Tensor,
} from '../../../src/core/tensor.js';
import { InferdError } from '../../../src/errors.js';
import { parseModelConfig } from '../../../src/core/model-config.js';
import type { ModelInvoker } from '../../../src/runtime/backend.js';
import type { PipelineBackend } from '../../../src/runtime/pipeline/backend.js';
import { pipelineBackend } from '../../../src/server.js';
import { resolveConfigPath } from '../../../src/runtime/npm-path.js';
import { FOLD_PASSES } from '../../../src/runtime/onnx/rewrite/fold.js';
import { rewriteModel, type RewritePass } from '../../../src/runtime/onnx/rewrite/passes.js';
import type { Int8Ranges } from '../../../src/runtime/onnx/rewrite/quantize-static.js';

export const REPO = resolve('models');

export function readConfig(name: string): ReturnType<typeof parseModelConfig> {
  return parseModelConfig(JSON.parse(readFileSync(join(REPO, name, 'config.json'), 'utf8')), name);
}

/**
 * Per-model timing, so benchmarks can split detection from recognition: `totalMs` sums each call's
 * wall time (overlapping calls count twice); `busyMs` is the time at least one call was running.
 */
export interface ModelTiming {
  calls: number;
  totalMs: number;
  busyMs: number;
  active: number;
  busySince: number;
}

/**
 * Like the server with `instance_group.count: 1`, each model runs one execution at a time (calls
 * queue per model; different models run concurrently).
 */
export class OrtInvoker implements ModelInvoker {
  readonly timings = new Map<string, ModelTiming>();
  private readonly queues = new Map<string, Promise<unknown>>();
  private constructor(private readonly sessions: Map<string, ort.InferenceSession>) {}

  /**
   * `rewrites: false` ignores the configs' `onnxruntime.graph_rewrites` (the models as shipped),
   * for before/after benchmarks; otherwise they are applied as the ONNX backend does. `passes`
   * replaces a model's configured passes (e.g. to add int8 ones); `int8Ranges` gives a model's
   * calibrated ranges to the static int8 passes; `float: true` keeps only the exact (float) passes
   * of the configs, dropping their int8 quantisation.
   */
  static async create(
    names = ['ocr-det', 'ocr-cls', 'ocr-rec'],
    intraOpNumThreads?: number,
    {
      rewrites = true,
      passes: override = {},
      int8Ranges = {},
      float = false,
    }: {
      rewrites?: boolean;
      float?: boolean;
      passes?: Record<string, RewritePass[]>;
      int8Ranges?: Record<string, Int8Ranges>;
    } = {},
  ): Promise<OrtInvoker> {
    const sessions = new Map<string, ort.InferenceSession>();
    for (const name of names) {
      const cfg = readConfig(name);
      const file = resolveConfigPath(cfg.default_model_filename, join(REPO, name, '1'));
      const configured = (cfg.onnxruntime as { graph_rewrites?: RewritePass[] } | undefined)?.graph_rewrites;
      const passes =
        override[name] ??
        (float ? configured?.filter((p) => (FOLD_PASSES as string[]).includes(p)) : configured);
      // The config's own calibrated ranges unless the caller gives others (as the backend reads them).
      const rangesFile = (cfg.onnxruntime as { int8_calibration?: string } | undefined)?.int8_calibration;
      const ranges =
        int8Ranges[name] ??
        (rangesFile
          ? (JSON.parse(readFileSync(join(REPO, name, rangesFile), 'utf8')) as { ranges: Int8Ranges }).ranges
          : undefined);
      const model =
        rewrites && passes?.length
          ? rewriteModel(readFileSync(file), passes, { int8Ranges: ranges }).model
          : file;
      const options: ort.InferenceSession.SessionOptions = {
        ...(intraOpNumThreads ? { intraOpNumThreads } : {}),
        // Idle ORT threads spin by default, starving the other sessions on a 2-core machine.
        extra: { session: { intra_op: { allow_spinning: process.env.ORT_ALLOW_SPINNING ?? '0' } } },
      };
      sessions.set(
        name,
        typeof model === 'string'
          ? await ort.InferenceSession.create(model, options)
          : await ort.InferenceSession.create(model, options),
      );
    }
    return new OrtInvoker(sessions);
  }

  async infer(request: InferenceRequest): Promise<InferenceResponse> {
    const session = this.sessions.get(request.modelName);
    if (!session) throw new InferdError('model_not_found', `no model '${request.modelName}'`);
    const feeds: Record<string, ort.Tensor> = {};
    for (const t of request.inputs) {
      if (t.datatype !== 'FP32') throw new InferdError('datatype_mismatch', `${t.name}: FP32 expected`);
      feeds[t.name] = new ort.Tensor('float32', t.data as Float32Array, t.shape);
    }
    const previous = this.queues.get(request.modelName) ?? Promise.resolve();
    const turn = previous.then(() => this.run(session, request, feeds));
    this.queues.set(
      request.modelName,
      turn.catch(() => undefined),
    );
    return turn;
  }

  private async run(
    session: ort.InferenceSession,
    request: InferenceRequest,
    feeds: Record<string, ort.Tensor>,
  ): Promise<InferenceResponse> {
    const timing = this.timings.get(request.modelName) ?? {
      calls: 0,
      totalMs: 0,
      busyMs: 0,
      active: 0,
      busySince: 0,
    };
    this.timings.set(request.modelName, timing);
    const started = performance.now();
    if (timing.active++ === 0) timing.busySince = started;
    const names = request.outputs?.map((o) => o.name) ?? [...session.outputNames];
    let result: ort.InferenceSession.OnnxValueMapType;
    try {
      result = await session.run(feeds, names);
    } finally {
      const ended = performance.now();
      timing.calls++;
      timing.totalMs += ended - started;
      if (--timing.active === 0) timing.busyMs += ended - timing.busySince;
    }
    const outputs: Tensor[] = names.map((name) => ({
      name,
      datatype: 'FP32',
      shape: [...result[name].dims],
      data: result[name].data as Float32Array,
    }));
    return { modelName: request.modelName, modelVersion: '1', outputs };
  }

  async release(): Promise<void> {
    for (const s of this.sessions.values()) await s.release();
  }
}

/** Loads models/ocr/config.json through pipelineBackend.load(), optionally overriding step parameters. */
export async function loadOcrPipeline(
  invoker: ModelInvoker,
  override?: (config: ReturnType<typeof readConfig>) => void,
): Promise<PipelineBackend> {
  const config = readConfig('ocr');
  override?.(config);
  const backend = await pipelineBackend.load({
    modelName: 'ocr',
    version: '1',
    versionDir: join(REPO, 'ocr', '1'),
    config,
    invoker,
    logger: pino({ level: 'silent' }),
  });
  return backend as PipelineBackend;
}

export interface OcrOutput {
  text: string;
  lines: { text: string; confidence: number; box: [number, number][] }[];
}

/** Runs one encoded image through the pipeline and parses the `result` JSON. */
export async function runOcr(backend: PipelineBackend, image: Uint8Array): Promise<OcrOutput> {
  const outs = await backend.infer([
    { name: 'image', datatype: 'BYTES', shape: [1], data: BytesData.fromArrays([image]) },
  ]);
  const result = outs.find((t) => t.name === 'result');
  if (!result) throw new Error('no result output');
  return JSON.parse((result.data as BytesData).text(0)) as OcrOutput;
}
