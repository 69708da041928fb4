/**
 * `image.preprocess`: a batch of encoded images (BYTES, one element per image, shape [N] or [N,1])
 * → one FP32 tensor [N,H,W,3] (NHWC) or [N,3,H,W] (NCHW) for an image classifier. It does what a
 * Triton ensemble's pre-processing model (DALI, or the old image_preprocess custom backend) does
 * before inception or resnet: decode, resize to a fixed size, scale. The scaling modes are those of
 * Triton's image_client.py: INCEPTION x/127.5 − 1, VGG x − (123, 117, 104) per RGB channel, NONE.
 *
 * Decoding reuses the OCR decoder (sniffed format, header checks before pixels, time limit), so
 * the same limits hold for every image a pipeline reads.
 */
import { z } from 'zod';
import { BytesData, type Tensor } from '../../core/tensor.js';
import { InferdError } from '../../errors.js';
import type { StepDefinition } from '../../runtime/pipeline/registry.js';
import { DECODE_DEFAULTS, decodeImage, resizeRgb } from '../ocr/image.js';
import { parseParams } from '../ocr/params.js';

/** Most images in one call: bounds the output allocation (N·H·W·3·4 bytes) before decoding. */
const MAX_IMAGES = 256;
/** Largest output side: 4096² · 3 · 4 B = 192 MiB per image is already far past any classifier. */
const MAX_SIDE = 4096;

const VGG_MEAN = [123, 117, 104] as const;

export type Scaling = 'NONE' | 'INCEPTION' | 'VGG';

/** Scales one RGB byte of channel `c` as Triton's image_client.py does. */
export function scale(value: number, c: number, mode: Scaling): number {
  if (mode === 'INCEPTION') return value / 127.5 - 1;
  if (mode === 'VGG') return value - VGG_MEAN[c]!;
  return value;
}

/** Writes one H×W×3 RGB image into `out` at image index `n` in the given layout. */
export function writeImage(
  rgb: Uint8Array,
  out: Float32Array,
  n: number,
  width: number,
  height: number,
  layout: 'NHWC' | 'NCHW',
  mode: Scaling,
): void {
  const plane = width * height;
  const base = n * plane * 3;
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) {
      const v = scale(rgb[p * 3 + c]!, c, mode);
      out[layout === 'NHWC' ? base + p * 3 + c : base + c * plane + p] = v;
    }
  }
}

export const preprocessStep: StepDefinition = {
  name: 'image.preprocess',
  inputs: ['image'],
  outputs: ['tensor'],
  description: 'encoded images BYTES[N] → FP32 [N,H,W,3] or [N,3,H,W], resized and scaled',
  create(raw) {
    const p = parseParams(
      z.strictObject({
        width: z.number().int().min(1).max(MAX_SIDE),
        height: z.number().int().min(1).max(MAX_SIDE),
        layout: z.enum(['NHWC', 'NCHW']).default('NHWC'),
        scaling: z.enum(['NONE', 'INCEPTION', 'VGG']).default('NONE'),
        max_bytes: z.number().int().min(1).default(DECODE_DEFAULTS.maxBytes),
        max_pixels: z.number().int().min(1).default(DECODE_DEFAULTS.maxPixels),
        timeout_seconds: z.number().int().min(1).max(3600).default(DECODE_DEFAULTS.timeoutSeconds),
      }),
      raw,
    );
    const limits = { maxBytes: p.max_bytes, maxPixels: p.max_pixels, timeoutSeconds: p.timeout_seconds };
    return async ({ image }) => {
      const t = image!;
      const n = t.data instanceof BytesData ? t.data.length : 0;
      const shapeOk = t.shape.length === 1 || (t.shape.length === 2 && t.shape[1] === 1);
      if (t.datatype !== 'BYTES' || !(t.data instanceof BytesData) || !shapeOk || n < 1) {
        throw new InferdError(
          'invalid_input',
          `'image' must be BYTES of shape [N] or [N,1], one encoded image per element`,
        );
      }
      if (n > MAX_IMAGES) {
        throw new InferdError(
          'invalid_input',
          `'image' holds ${n} images; at most ${MAX_IMAGES} per request`,
        );
      }
      const out = new Float32Array(n * p.width * p.height * 3);
      for (let i = 0; i < n; i++) {
        const decoded = await decodeImage(t.data.at(i), limits);
        const resized = await resizeRgb(decoded, p.width, p.height);
        writeImage(resized.data, out, i, p.width, p.height, p.layout, p.scaling);
      }
      const shape = p.layout === 'NHWC' ? [n, p.height, p.width, 3] : [n, 3, p.height, p.width];
      const tensor: Tensor = { name: 'tensor', datatype: 'FP32', shape, data: out };
      return { tensor };
    };
  },
};

/** The `image.*` step package. */
export const imageSteps: readonly StepDefinition[] = [preprocessStep];
