/**
 * Hostile images for the OCR model, generated at run time (the largest is an 80 KB PNG that
 * decodes to 40 million pixels): extreme aspect ratios under `max_pixels`, a header claiming far
 * more pixels than the data holds, SVG (which must be refused by its magic bytes before any
 * decoder sees it), and a truncated file.
 */
import { crc32, deflateSync } from 'node:zlib';

function chunk(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt32BE(body.length);
  const typed = Buffer.concat([Buffer.from(type, 'ascii'), body]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typed));
  return Buffer.concat([head, typed, crc]);
}

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * An 8-bit greyscale PNG of width × height black pixels with complete pixel data (each row a
 * filter byte and `width` zeros), so a decoder really has to walk every pixel.
 */
function greyPng(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 0, 0, 0, 0], 8); // 8-bit greyscale
  const raw = Buffer.alloc(height * (width + 1));
  return Buffer.concat([
    SIGNATURE,
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A tiny PNG whose header claims width × height RGB pixels (the data is one short row). */
export function pngClaiming(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([
    SIGNATURE,
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.alloc(1 + 3 * 16))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

export function svg(width: number, height: number): Buffer {
  return Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">` +
      `<rect width="100%" height="100%" fill="white"/><text x="10" y="40" font-size="30">HELLO</text></svg>`,
  );
}

/** Not well-formed XML: librsvg's parser would report it in its own words. */
export function brokenSvg(): Buffer {
  return Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect');
}

/** An SVG behind an XML declaration (a sniffer that looks for `<svg` at offset 0 misses it). */
export function xmlSvg(): Buffer {
  return Buffer.from(
    '<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="abc" height="10"></svg>',
  );
}

/** The first 60 bytes of a real 200 × 60 PNG: the header is fine, the data stops inside IDAT. */
export function truncatedPng(): Buffer {
  return greyPng(200, 60).subarray(0, 60);
}

const cache = new Map<string, Buffer>();

/** Memoised: the 40-megapixel PNGs take a second to deflate. */
export function image(kind: 'wide' | 'tall'): Buffer {
  let b = cache.get(kind);
  if (!b) {
    b = kind === 'wide' ? greyPng(40_000_000, 1) : greyPng(1, 40_000_000);
    cache.set(kind, b);
  }
  return b;
}

/** The JSON infer body for the OCR pipeline (image as a base64 BYTES element). */
export function ocrBody(bytes: Buffer): string {
  return JSON.stringify({
    inputs: [
      {
        name: 'image',
        datatype: 'BYTES',
        shape: [1],
        data: [bytes.toString('base64')],
        parameters: { content_type: 'base64' },
      },
    ],
  });
}
