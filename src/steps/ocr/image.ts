/**
 * Image decoding with sharp (libvips, on libuv threads) under explicit limits, and the RGB image
 * tensor that OCR steps pass each other: UINT8 [height, width, 3], row-major, after EXIF
 * orientation, alpha flattened onto white.
 */
import sharp from 'sharp';
import type { Metadata, SharpOptions } from 'sharp';
import type { Tensor } from '../../core/tensor.js';
import { InferdError } from '../../errors.js';

export interface DecodeLimits {
  /** Largest encoded image accepted, bytes. */
  maxBytes: number;
  /** Largest width × height accepted; checked from the header before any pixel is decoded. */
  maxPixels: number;
}

export const DECODE_DEFAULTS: DecodeLimits = { maxBytes: 20 * 1024 * 1024, maxPixels: 40_000_000 };

/** Formats accepted; sharp names them by container. */
const FORMATS = new Set(['png', 'jpeg', 'webp', 'tiff']);

export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message.split('\n')[0] : String(err);
}

/** Decodes encoded bytes to oriented 8-bit RGB; every failure is `invalid_image` naming the problem. */
export async function decodeImage(
  bytes: Uint8Array,
  limits: DecodeLimits = DECODE_DEFAULTS,
): Promise<RgbImage> {
  if (bytes.length === 0) throw new InferdError('invalid_image', 'image is empty');
  if (bytes.length > limits.maxBytes) {
    throw new InferdError(
      'invalid_image',
      `image is ${bytes.length} bytes, more than the limit of ${limits.maxBytes}`,
    );
  }
  const input = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  // limitInputPixels makes libvips itself refuse oversized images too, as a second line of defence.
  const options: SharpOptions = {
    limitInputPixels: limits.maxPixels,
    failOn: 'error',
    sequentialRead: true,
  };
  let meta: Metadata;
  try {
    // The header alone: no pixels are decoded, so the size can be checked with a clear message.
    meta = await sharp(input, { ...options, limitInputPixels: false }).metadata();
  } catch (err) {
    throw new InferdError('invalid_image', `cannot read image header: ${describe(err)}`, { cause: err });
  }
  if (!meta.format || !FORMATS.has(meta.format)) {
    throw new InferdError(
      'invalid_image',
      `unsupported image format '${meta.format ?? 'unknown'}' (PNG, JPEG, WebP or TIFF)`,
    );
  }
  const { width, height } = meta;
  if (!width || !height) throw new InferdError('invalid_image', 'image has no dimensions');
  if (width * height > limits.maxPixels) {
    throw new InferdError(
      'invalid_image',
      `image is ${width}×${height} = ${width * height} pixels, more than the limit of ${limits.maxPixels}`,
    );
  }
  try {
    const { data, info } = await sharp(input, options)
      .rotate() // EXIF orientation
      .flatten({ background: '#ffffff' })
      .toColourspace('srgb')
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels, expected 3`);
    return {
      data: new Uint8Array(data.buffer, data.byteOffset, data.length),
      width: info.width,
      height: info.height,
    };
  } catch (err) {
    throw new InferdError('invalid_image', `cannot decode ${meta.format} image: ${describe(err)}`, {
      cause: err,
    });
  }
}

export function imageTensor(name: string, img: RgbImage): Tensor {
  return { name, datatype: 'UINT8', shape: [img.height, img.width, 3], data: img.data };
}

/** Reads an image tensor produced by `imageTensor`; `invalid_input` when its shape is not [H, W, 3]. */
export function imageFromTensor(t: Tensor): RgbImage {
  if (t.datatype !== 'UINT8' || t.shape.length !== 3 || t.shape[2] !== 3 || !(t.data instanceof Uint8Array)) {
    throw new InferdError(
      'invalid_input',
      `'${t.name}' must be a UINT8 [height, width, 3] image, got ${t.datatype} [${t.shape.join(', ')}]`,
    );
  }
  return { data: t.data, height: t.shape[0], width: t.shape[1] };
}

/** Resizes RGB pixels with sharp (off the main thread); `fill` ignores the aspect ratio on purpose. */
export async function resizeRgb(img: RgbImage, width: number, height: number): Promise<RgbImage> {
  if (width === img.width && height === img.height) return img;
  const { data, info } = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .resize(width, height, { fit: 'fill', kernel: 'linear' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return {
    data: new Uint8Array(data.buffer, data.byteOffset, data.length),
    width: info.width,
    height: info.height,
  };
}
