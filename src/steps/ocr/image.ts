/**
 * Image decoding with sharp (libvips, on libuv threads) under explicit limits, and the RGB image
 * tensor that OCR steps pass each other: UINT8 [height, width, 3], row-major, after EXIF
 * orientation, alpha flattened onto white.
 *
 * Order of the checks, cheapest first, each before anything costlier sees the bytes: size in bytes,
 * format by magic bytes (image-format.ts), then the header's dimensions (pixels, longest side,
 * aspect ratio), then the decode itself under a time limit. Messages never carry libvips text:
 * the library's own words stay in the error's `cause`, for whoever debugs.
 */
import sharp from 'sharp';
import type { Metadata, SharpOptions } from 'sharp';
import type { Tensor } from '../../core/tensor.js';
import { InferdError } from '../../errors.js';
import { sniffImageFormat } from './image-format.js';

export interface DecodeLimits {
  /** Largest encoded image accepted, bytes. */
  maxBytes: number;
  /** Largest width × height accepted; checked from the header before any pixel is decoded. */
  maxPixels: number;
  /**
   * Longest side accepted, pixels. libvips decodes row by row with a fixed cost per row, so a thin
   * image is slow for its pixel count: 1 × 4,000,000 took 4.9 s where 2000 × 2000 took 78 ms, and
   * 1 × 16,384 took 41 ms (2-core dev machine). 16,384 is also WebP's own limit.
   */
  maxSide: number;
  /** Largest ratio of the longer side to the shorter (a text line of 2000 × 32 is 62.5). */
  maxAspectRatio: number;
  /** Longest decode, seconds (sharp's `timeout`; libvips stops the work). */
  timeoutSeconds: number;
}

export const DECODE_DEFAULTS: DecodeLimits = {
  maxBytes: 20 * 1024 * 1024,
  maxPixels: 40_000_000,
  maxSide: 16_384,
  maxAspectRatio: 100,
  timeoutSeconds: 10,
};

export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

/** A library failure as a client sees it: what went wrong, in our words; the library's in `cause`. */
function unreadable(what: string, err: unknown): InferdError {
  return new InferdError('invalid_image', `${what}: the data is truncated or corrupt`, { cause: err });
}

/** sharp's message when `timeout` stopped the work ("timeout: 24% complete"). */
const isTimeout = (err: unknown): boolean => err instanceof Error && /^timeout\b/.test(err.message);

/** Refuses dimensions over the limits, from the header alone. */
function checkDimensions(width: number, height: number, limits: DecodeLimits): void {
  const size = `image is ${width}×${height}`;
  if (width * height > limits.maxPixels) {
    throw new InferdError(
      'invalid_image',
      `${size} = ${width * height} pixels, more than the limit of ${limits.maxPixels}`,
    );
  }
  const longer = Math.max(width, height);
  if (longer > limits.maxSide) {
    throw new InferdError(
      'invalid_image',
      `${size}: its longer side is more than the limit of ${limits.maxSide} pixels`,
    );
  }
  const ratio = longer / Math.min(width, height);
  if (ratio > limits.maxAspectRatio) {
    throw new InferdError(
      'invalid_image',
      `${size}: its aspect ratio ${Math.round(ratio)}:1 is more than the limit of ${limits.maxAspectRatio}:1`,
    );
  }
}

/** Decodes encoded bytes to oriented 8-bit RGB; every failure is `invalid_image` naming the problem. */
export async function decodeImage(bytes: Uint8Array, given: Partial<DecodeLimits> = {}): Promise<RgbImage> {
  const limits: DecodeLimits = { ...DECODE_DEFAULTS, ...given };
  if (bytes.length === 0) throw new InferdError('invalid_image', 'image is empty');
  if (bytes.length > limits.maxBytes) {
    throw new InferdError(
      'invalid_image',
      `image is ${bytes.length} bytes, more than the limit of ${limits.maxBytes}`,
    );
  }
  const sniffed = sniffImageFormat(bytes);
  if (!sniffed.accepted) {
    throw new InferdError(
      'invalid_image',
      `unsupported image format '${sniffed.format}' (PNG, JPEG, WebP or TIFF)`,
    );
  }
  const format = sniffed.format;
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
    throw unreadable(`cannot read image header of the ${format} image`, err);
  }
  // libvips sniffs on its own; both must agree, or a decoder we did not choose would run.
  if (meta.format !== format) {
    throw new InferdError(
      'invalid_image',
      `cannot read image header of the ${format} image: it is malformed`,
    );
  }
  const { width, height } = meta;
  if (!width || !height) throw new InferdError('invalid_image', 'image has no dimensions');
  checkDimensions(width, height, limits);
  try {
    const { data, info } = await sharp(input, options)
      .timeout({ seconds: limits.timeoutSeconds })
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
    if (isTimeout(err)) {
      throw new InferdError(
        'invalid_image',
        `cannot decode the ${format} image within the limit of ${limits.timeoutSeconds} s; send a smaller or simpler image`,
        { cause: err },
      );
    }
    throw unreadable(`cannot decode ${format} image`, err);
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
