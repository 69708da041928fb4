/**
 * OCR steps from encoded image to text boxes: ocr.decode_image, ocr.det_preprocess,
 * ocr.db_postprocess and ocr.crop (see steps.ts for the whole chain).
 */
import { z } from 'zod';
import { InferdError } from '../../errors.js';
import type { StepDefinition } from '../../runtime/pipeline/registry.js';
import { CROP_DEFAULTS, cropQuads, cropTensors, quadsFromTensor, quadsToTensor } from './crop.js';
import { DB_DEFAULTS, dbPostprocess } from './db-postprocess.js';
import {
  DET_MEAN,
  DET_RESIZE_DEFAULTS,
  DET_STD,
  detResizeSize,
  normalizeBgrPlanar,
} from './det-preprocess.js';
import { DECODE_DEFAULTS, decodeImage, imageFromTensor, imageTensor, resizeRgb } from './image.js';
import { parseParams, triple } from './params.js';

export const decodeImageStep: StepDefinition = {
  name: 'ocr.decode_image',
  inputs: ['image'],
  outputs: ['image'],
  description: 'PNG/JPEG/WebP/TIFF bytes → oriented RGB pixels, with size limits',
  create(raw) {
    const p = parseParams(
      z.strictObject({
        max_bytes: z.number().int().min(1).default(DECODE_DEFAULTS.maxBytes),
        max_pixels: z.number().int().min(1).default(DECODE_DEFAULTS.maxPixels),
      }),
      raw,
    );
    return async ({ image }) => {
      if (image.datatype !== 'BYTES' || !Array.isArray(image.data) || image.data.length !== 1) {
        throw new InferdError(
          'invalid_input',
          `'image' must be BYTES with exactly one element (one encoded image)`,
        );
      }
      const img = await decodeImage(image.data[0], { maxBytes: p.max_bytes, maxPixels: p.max_pixels });
      return { image: imageTensor('image', img) };
    };
  },
};

export const detPreprocessStep: StepDefinition = {
  name: 'ocr.det_preprocess',
  inputs: ['image'],
  outputs: ['tensor'],
  description: 'resize to multiples of 32 within limit_side_len, normalise to BGR planes',
  create(raw) {
    const p = parseParams(
      z.strictObject({
        limit_side_len: z.number().int().min(32).max(8192).default(DET_RESIZE_DEFAULTS.limitSideLen),
        limit_type: z.enum(['max', 'min']).default(DET_RESIZE_DEFAULTS.limitType),
        mean: triple.default([...DET_MEAN] as [number, number, number]),
        std: triple.default([...DET_STD] as [number, number, number]),
      }),
      raw,
    );
    return async ({ image }) => {
      const img = imageFromTensor(image);
      const size = detResizeSize(img.width, img.height, {
        limitSideLen: p.limit_side_len,
        limitType: p.limit_type,
      });
      const resized = await resizeRgb(img, size.width, size.height);
      const data = normalizeBgrPlanar(resized.data, size.width * size.height, p.mean, p.std);
      return { tensor: { name: 'tensor', datatype: 'FP32', shape: [1, 3, size.height, size.width], data } };
    };
  },
};

export const dbPostprocessStep: StepDefinition = {
  name: 'ocr.db_postprocess',
  inputs: ['map', 'image'],
  outputs: ['boxes', 'scores'],
  description: 'DB probability map → text boxes in original-image pixels',
  create(raw) {
    const p = parseParams(
      z.strictObject({
        thresh: z.number().min(0).max(1).default(DB_DEFAULTS.thresh),
        box_thresh: z.number().min(0).max(1).default(DB_DEFAULTS.boxThresh),
        unclip_ratio: z.number().min(0).default(DB_DEFAULTS.unclipRatio),
        max_candidates: z.number().int().min(1).default(DB_DEFAULTS.maxCandidates),
        min_size: z.number().min(0).default(DB_DEFAULTS.minSize),
      }),
      raw,
    );
    return async ({ map, image }) => {
      if (
        map.datatype !== 'FP32' ||
        !(map.data instanceof Float32Array) ||
        map.shape.length !== 4 ||
        map.shape[0] !== 1
      ) {
        throw new InferdError('invalid_input', `'map' must be FP32 [1, 1, h, w]`);
      }
      const [height, width] = [image.shape[0], image.shape[1]];
      const boxes = dbPostprocess(map.data, map.shape[3], map.shape[2], width, height, {
        thresh: p.thresh,
        boxThresh: p.box_thresh,
        unclipRatio: p.unclip_ratio,
        maxCandidates: p.max_candidates,
        minSize: p.min_size,
      });
      return {
        boxes: quadsToTensor(
          'boxes',
          boxes.map((b) => b.quad),
        ),
        scores: {
          name: 'scores',
          datatype: 'FP32',
          shape: [boxes.length],
          data: Float32Array.from(boxes.map((b) => b.score)),
        },
      };
    };
  },
};

export const cropStep: StepDefinition = {
  name: 'ocr.crop',
  inputs: ['image', 'boxes'],
  /** `boxes` out: the same quads oriented as cropped (corner 0 = the crop's top-left). */
  outputs: ['crops', 'widths', 'boxes'],
  description: 'cut out and straighten each box at the recogniser height',
  create(raw) {
    const p = parseParams(
      z.strictObject({
        height: z.number().int().min(8).max(256).default(CROP_DEFAULTS.height),
        max_width: z.number().int().min(8).default(CROP_DEFAULTS.maxWidth),
      }),
      raw,
    );
    return async ({ image, boxes }) => {
      const { batch, oriented } = cropQuads(imageFromTensor(image), quadsFromTensor(boxes), {
        height: p.height,
        maxWidth: p.max_width,
      });
      return { ...cropTensors(batch), boxes: quadsToTensor('boxes', oriented) };
    };
  },
};
