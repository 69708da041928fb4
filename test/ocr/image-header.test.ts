/**
 * The image header reader (src/core/image-header.ts) on images of known size in every accepted
 * format, as sharp writes them, and on hostile headers: truncated, zero-sized, endless JPEG fill,
 * directory offsets past the end. It never throws and never reads past its bound.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { imageSize } from '../../src/core/image-header.js';
import { blackPng } from './helpers/png.js';

const blank = (width: number, height: number, alpha = false) =>
  sharp({
    create: { width, height, channels: alpha ? 4 : 3, background: { r: 255, g: 255, b: 255, alpha: 1 } },
  });

test('PNG, JPEG, WebP and TIFF of known sizes', async () => {
  const cases: Array<[string, Buffer, number, number]> = [
    ['png', await blank(37, 23).png().toBuffer(), 37, 23],
    ['jpeg baseline', await blank(640, 480).jpeg().toBuffer(), 640, 480],
    ['jpeg progressive', await blank(333, 17).jpeg({ progressive: true }).toBuffer(), 333, 17],
    ['webp lossy (VP8)', await blank(300, 200).webp({ quality: 60 }).toBuffer(), 300, 200],
    ['webp lossless (VP8L)', await blank(301, 199).webp({ lossless: true }).toBuffer(), 301, 199],
    ['webp with alpha (VP8X)', await blank(129, 65, true).webp({ quality: 80 }).toBuffer(), 129, 65],
    ['tiff', await blank(123, 45).tiff().toBuffer(), 123, 45],
    ['bigtiff', await blank(77, 66).tiff({ bigtiff: true }).toBuffer(), 77, 66],
    ['png 1 × 40,000,000 (header only)', blackPng(1, 40_000_000), 1, 40_000_000],
  ];
  for (const [name, bytes, width, height] of cases) {
    assert.deepEqual(imageSize(bytes), { width, height }, name);
  }
});

test('JPEG: the stored size, behind EXIF and an ICC profile; orientation does not swap it', async () => {
  const stored = await blank(200, 100).jpeg().withMetadata({ orientation: 6, icc: 'srgb' }).toBuffer();
  const sof = stored.indexOf(Buffer.from([0xff, 0xc0]));
  assert.ok(stored.indexOf('Exif') > 0 && stored.indexOf('Exif') < sof, 'EXIF before the frame header');
  assert.ok(stored.indexOf('ICC_PROFILE') > 0 && stored.indexOf('ICC_PROFILE') < sof, 'ICC too');
  assert.deepEqual(imageSize(stored), { width: 200, height: 100 });
});

test('hostile or broken headers give undefined, never an exception', async () => {
  const png = await blank(10, 10).png().toBuffer();
  const zeroWide = Buffer.from(png);
  zeroWide.writeUInt32BE(0, 16);
  const jpegFill = Buffer.alloc(2 * 1024 * 1024, 0xff);
  jpegFill[1] = 0xd8;
  const jpegShortSegment = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x01, 0, 0, 0, 0]);
  const jpegNoFrame = Buffer.from([0xff, 0xd8, 0xff, 0xda, 0x00, 0x08, 0, 0, 0, 0, 0, 0]);
  // Segments of the smallest length, far more of them than the reader follows.
  const jpegManySegments = Buffer.concat([
    Buffer.from([0xff, 0xd8]),
    Buffer.alloc(4 * 5000, Buffer.from([0xff, 0xfe, 0x00, 0x02])),
    (await blank(8, 8).jpeg().toBuffer()).subarray(2),
  ]);
  const tiffFarIfd = Buffer.from([0x49, 0x49, 0x2a, 0x00, 0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0]);
  const tiffHugeCount = Buffer.from([0x4d, 0x4d, 0x00, 0x2a, 0, 0, 0, 8, 0xff, 0xff, 0, 1, 0, 3]);
  const bigTiffHugeCount = Buffer.alloc(32, 0xff);
  bigTiffHugeCount.set([0x49, 0x49, 0x2b, 0x00, 8, 0, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0]);
  const webpBadStart = await blank(20, 20).webp({ quality: 50 }).toBuffer();
  webpBadStart[23] = 0;
  for (const [name, bytes] of [
    ['empty', Buffer.alloc(0)],
    ['truncated png', png.subarray(0, 20)],
    ['png 0 wide', zeroWide],
    ['2 MiB of JPEG fill bytes', jpegFill],
    ['JPEG segment length < 2', jpegShortSegment],
    ['JPEG scan before any frame', jpegNoFrame],
    ['JPEG frame after 5,000 segments', jpegManySegments],
    ['TIFF directory past the end', tiffFarIfd],
    ['TIFF with 65,535 entries in 14 bytes', tiffHugeCount],
    ['BigTIFF with 2^64 − 1 entries', bigTiffHugeCount],
    ['WebP without the VP8 start code', webpBadStart],
    ['GIF', Buffer.from('GIF89a\x01\x00\x01\x00\x00\x00\x00', 'latin1')],
    ['text', Buffer.from('hello, this is not an image')],
  ] as const) {
    assert.equal(imageSize(bytes), undefined, name);
  }
});

test('header sizes are untrusted: the largest a PNG can claim is still just two numbers', () => {
  const png = blackPng(1, 1);
  png.writeUInt32BE(0xffffffff, 16);
  png.writeUInt32BE(0xffffffff, 20);
  assert.deepEqual(imageSize(png), { width: 0xffffffff, height: 0xffffffff });
});
