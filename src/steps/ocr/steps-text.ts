/**
 * OCR steps from line crops to the result: ocr.classify, ocr.recognize and ocr.assemble (see
 * steps.ts for the whole chain).
 */
import { z } from 'zod';
import { InferdError } from '../../errors.js';
import type { StepDefinition, StepLoadContext } from '../../runtime/pipeline/registry.js';
import { resolveConfigPath } from '../../runtime/npm-path.js';
import { CLS_DEFAULTS, classifyAndFlip } from './classify.js';
import { quadsFromTensor, quadsToTensor } from './crop.js';
import { loadDictionary } from './ctc.js';
import type { Quad } from './geometry.js';
import { bytesTensor, decodeStrings, parseParams } from './params.js';
import { assembleResult, type OcrLine } from './reading-order.js';
import { REC_DEFAULTS, recognizeCrops } from './recognize.js';
import { cropBatchFromTensors } from './text-input.js';

/** The `model` parameter as `create` will read it (a wrong type fails there). */
const modelParam = (raw: Record<string, unknown>, fallback: string): string =>
  typeof raw.model === 'string' && raw.model !== '' ? raw.model : fallback;

export const classifyStep: StepDefinition = {
  name: 'ocr.classify',
  /** `boxes`: oriented quads from ocr.crop; turned crops get their corners turned too. */
  inputs: ['crops', 'widths', 'boxes'],
  outputs: ['crops', 'boxes'],
  description: 'turn upside-down crops (0°/180° classifier); enabled=false passes crops through',
  models: (raw) => (raw.enabled === false ? [] : [modelParam(raw, CLS_DEFAULTS.model)]),
  create(raw) {
    const p = parseParams(
      z.strictObject({
        enabled: z.boolean().default(true),
        model: z.string().min(1).default(CLS_DEFAULTS.model),
        input_name: z.string().min(1).default('x'),
        width: z.number().int().min(8).default(CLS_DEFAULTS.width),
        batch_size: z.number().int().min(1).default(CLS_DEFAULTS.batchSize),
        thresh: z.number().min(0).max(1).default(CLS_DEFAULTS.thresh),
        max_windows: z.number().int().min(1).default(CLS_DEFAULTS.maxWindows),
        /** `all` judges every line; `sample` the widest lines first, the rest only if one is turned. */
        policy: z.enum(['all', 'sample']).default(CLS_DEFAULTS.policy),
        sample_lines: z.number().int().min(1).max(1024).default(CLS_DEFAULTS.sampleLines),
      }),
      raw,
    );
    const params = {
      model: p.model,
      inputName: p.input_name,
      width: p.width,
      batchSize: p.batch_size,
      thresh: p.thresh,
      maxWindows: p.max_windows,
      policy: p.policy,
      sampleLines: p.sample_lines,
    };
    return async ({ crops, widths, boxes }, ctx) => {
      const batch = cropBatchFromTensors(crops, widths);
      if (!p.enabled || batch.count === 0) return { crops, boxes };
      const flipped = await classifyAndFlip(batch, ctx.invoker, params, ctx.signal);
      // A turned crop's top-left is the quad's old bottom-right.
      const quads = quadsFromTensor(boxes).map((q, i) =>
        flipped[i] ? ([q[2], q[3], q[0], q[1]] as Quad) : q,
      );
      return { crops, boxes: quadsToTensor('boxes', quads) };
    };
  },
};

export const recognizeStep: StepDefinition = {
  name: 'ocr.recognize',
  inputs: ['crops', 'widths'],
  outputs: ['texts', 'confidences'],
  description: 'CRNN/SVTR recognition in width-bucketed batches + CTC decoding',
  models: (raw) => [modelParam(raw, REC_DEFAULTS.model)],
  async create(raw, ctx: StepLoadContext) {
    const p = parseParams(
      z.strictObject({
        model: z.string().min(1).default(REC_DEFAULTS.model),
        input_name: z.string().min(1).default('x'),
        dictionary: z.string().min(1),
        use_space_char: z.boolean().default(true),
        bucket_step: z.number().int().min(8).default(REC_DEFAULTS.bucketStep),
        min_width: z.number().int().min(8).default(REC_DEFAULTS.minWidth),
        batch_size: z.number().int().min(1).default(REC_DEFAULTS.batchSize),
      }),
      raw,
    );
    const dictionary = await loadDictionary(
      resolveConfigPath(p.dictionary, ctx.versionDir),
      p.use_space_char,
    );
    const params = {
      model: p.model,
      inputName: p.input_name,
      bucketStep: p.bucket_step,
      minWidth: p.min_width,
      batchSize: p.batch_size,
    };
    return async ({ crops, widths }, sctx) => {
      const batch = cropBatchFromTensors(crops, widths);
      const decoded =
        batch.count === 0 ? [] : await recognizeCrops(batch, dictionary, sctx.invoker, params, sctx.signal);
      return {
        texts: bytesTensor(
          'texts',
          decoded.map((d) => d.text),
        ),
        confidences: {
          name: 'confidences',
          datatype: 'FP32',
          shape: [decoded.length],
          data: Float32Array.from(decoded.map((d) => d.confidence)),
        },
      };
    };
  },
};

export const assembleStep: StepDefinition = {
  name: 'ocr.assemble',
  /** `boxes` oriented as ocr.crop/ocr.classify return them (corner 0 = the text's top-left). */
  inputs: ['boxes', 'texts', 'confidences'],
  outputs: ['text', 'result'],
  description: 'drop low-confidence lines, order for reading, build text and JSON result',
  create(raw) {
    const p = parseParams(
      z.strictObject({
        drop_score: z.number().min(0).max(1).default(0.5),
        y_tolerance: z.number().min(0).default(0.5),
      }),
      raw,
    );
    return async ({ boxes, texts, confidences }) => {
      const quads = quadsFromTensor(boxes);
      const strings = decodeStrings(texts);
      const conf = confidences.data as Float32Array;
      if (strings.length !== quads.length || conf.length !== quads.length) {
        throw new InferdError('invalid_input', `boxes, texts and confidences differ in length`);
      }
      const lines: OcrLine[] = quads.map((box, i) => ({
        text: strings[i],
        confidence: Math.round(conf[i] * 1e4) / 1e4,
        box: box.map(([x, y]) => [Math.round(x), Math.round(y)]) as OcrLine['box'],
      }));
      const result = assembleResult(lines, p.drop_score, p.y_tolerance);
      return {
        text: bytesTensor('text', [result.text]),
        result: bytesTensor('result', [JSON.stringify(result)]),
      };
    };
  },
};
