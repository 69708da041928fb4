/**
 * The OCR pipeline's step functions (`ocr.*`), registered by name for pipeline configs. Each
 * validates its `parameters` (snake_case, as in config.json) with zod at load and works on tensors:
 *
 *   image BYTES[1] → decode_image → image UINT8[H,W,3] → det_preprocess → FP32[1,3,h,w]
 *   → (model ocr-det) → map FP32[1,1,h,w] → db_postprocess → boxes FP32[N,4,2], scores FP32[N]
 *   → crop → crops UINT8[N,48,Wmax,3], widths INT32[N], oriented boxes FP32[N,4,2]
 *   → classify (ocr-cls; turns crops and boxes) → recognize (ocr-rec) → texts BYTES[N],
 *   confidences FP32[N] → assemble → text BYTES[1], result BYTES[1] (JSON)
 *
 * Steps live in steps-detect.ts (image → boxes → crops) and steps-text.ts (crops → result).
 */
import type { StepDefinition } from '../../runtime/pipeline/registry.js';
import { cropStep, dbPostprocessStep, decodeImageStep, detPreprocessStep } from './steps-detect.js';
import { assembleStep, classifyStep, recognizeStep } from './steps-text.js';

export const ocrSteps: readonly StepDefinition[] = [
  decodeImageStep,
  detPreprocessStep,
  dbPostprocessStep,
  cropStep,
  classifyStep,
  recognizeStep,
  assembleStep,
];
