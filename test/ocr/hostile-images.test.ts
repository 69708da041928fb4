/**
 * Hostile images through the real server (issue 23, finding 4 and the low item on library text):
 * thin images under max_pixels that cost libvips seconds per megapixel, formats other than the four
 * documented ones, truncated files, and a decode that outlasts its time limit. Each is a 400
 * invalid_image whose message is ours: no libvips, librsvg or libpng text reaches the client.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, cpSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import type { RunningServer } from '../../src/server.js';
import { startTestServer } from '../helpers/server.js';
import { blackPng } from './helpers/png.js';
import { inferOverHttp, makeOcrRepository } from './helpers/repo.js';

let server: RunningServer;
let repo: ReturnType<typeof makeOcrRepository>;

/** 78 KB: zero rows deflate to almost nothing. Made once, used twice. */
let tallPng: Buffer | undefined;
const tall = (): Buffer => (tallPng ??= blackPng(1, 40_000_000));

/** Words of the image libraries that must never reach a client. */
const LIBRARY_TEXT = /vips|rsvg|glib|libpng|libspng|libjpeg|libtiff|libwebp|xml parse|corrupt header/i;

before(async () => {
  repo = makeOcrRepository();
  // `ocr_lax`: the ocr pipeline with the shape limits lifted and a 1 s decode limit, to show that
  // the time limit holds on its own.
  cpSync(join(repo.dir, 'ocr'), join(repo.dir, 'ocr_lax'), { recursive: true });
  const file = join(repo.dir, 'ocr_lax', 'config.json');
  const cfg = JSON.parse(readFileSync(file, 'utf8')) as {
    name: string;
    pipeline: { steps: { name: string; parameters?: Record<string, unknown> }[] };
  };
  cfg.name = 'ocr_lax';
  const decode = cfg.pipeline.steps.find((s) => s.name === 'decode')!;
  Object.assign(decode.parameters!, { max_side: 1e9, max_aspect_ratio: 1e9, timeout_seconds: 1 });
  writeFileSync(file, JSON.stringify(cfg));
  server = await startTestServer(repo.dir);
});

after(async () => {
  await server?.close();
  repo?.remove();
});

async function refused(image: Uint8Array, pattern: RegExp, model = 'ocr'): Promise<void> {
  const { status, body } = await inferAt(server.httpUrl, model, image);
  assert.equal(status, 400, JSON.stringify(body));
  assert.equal(body.code, 'invalid_image');
  assert.match(String(body.error), pattern);
  assert.doesNotMatch(String(body.error), LIBRARY_TEXT);
}

/** POST /v2/models/{model}/infer with the image as a base64 BYTES element. */
async function inferAt(
  base: string,
  model: string,
  image: Uint8Array,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${base}/v2/models/${model}/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      inputs: [
        {
          name: 'image',
          datatype: 'BYTES',
          shape: [1],
          data: [Buffer.from(image).toString('base64')],
          parameters: { content_type: 'base64' },
        },
      ],
    }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

test('a 1 × 40,000,000 PNG (under max_pixels) is refused from its header: the longer side is over max_side', async () => {
  assert.ok(tall().length < 100_000, `${tall().length} bytes`);
  await refused(tall(), /1×40000000: its longer side is more than the limit of 16384 pixels/);
  await refused(blackPng(40_000_000, 1), /40000000×1: its longer side is more than the limit of 16384/);
});

test('an image more elongated than max_aspect_ratio is refused', async () => {
  await refused(blackPng(16_000, 100), /16000×100: its aspect ratio 160:1 is more than the limit of 100:1/);
  await refused(blackPng(20, 16_000), /aspect ratio 800:1/);
});

test('a decode that outlasts timeout_seconds is stopped and refused', async () => {
  // 1 × 40,000,000 takes libvips about 40 s; the pipeline's own limit stops it after 1 s.
  await refused(tall(), /cannot decode the png image within the limit of 1 s/, 'ocr_lax');
});

test('SVG, GIF and other formats are refused by their magic bytes, with no library text', async () => {
  // A malformed SVG: librsvg's XML parser would have explained it in its own words.
  await refused(
    Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect'),
    /^unsupported image format 'svg' \(PNG, JPEG, WebP or TIFF\)$/,
  );
  await refused(
    Buffer.from('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"><text>&nope;</text></svg>'),
    /unsupported image format 'svg'/,
  );
  const gif = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#000' } })
    .gif()
    .toBuffer();
  await refused(gif, /unsupported image format 'gif'/);
  await refused(Buffer.from('%PDF-1.7\n'), /unsupported image format 'pdf'/);
  await refused(Buffer.from('just some text'), /unsupported image format 'unknown'/);
});

test('truncated and corrupt files are refused in our words', async () => {
  const png = await sharp({ create: { width: 300, height: 200, channels: 3, background: '#36c' } })
    .png()
    .toBuffer();
  // Header intact, pixel data cut short: the PNG decoder fails mid-way.
  await refused(
    png.subarray(0, png.length - 40),
    /cannot decode png image: the data is truncated or corrupt/,
  );
  const jpeg = await sharp({ create: { width: 300, height: 200, channels: 3, background: '#36c' } })
    .jpeg()
    .toBuffer();
  await refused(
    jpeg.subarray(0, 40),
    /cannot (read image header of the|decode) jpeg image: the data is truncated or corrupt/,
  );
  await refused(
    Buffer.from('RIFF\0\0\0\0WEBPVP8 '),
    /cannot read image header of the webp image: the data is truncated or corrupt/,
  );
  await refused(Buffer.from([0x49, 0x49, 0x2a, 0, 8, 0, 0, 0, 0, 0]), /tiff image/);
});

test('a valid image still reads after the refusals', async () => {
  const png = await sharp({ create: { width: 200, height: 100, channels: 3, background: '#fff' } })
    .png()
    .toBuffer();
  const { status, body } = await inferOverHttp(server.httpUrl, png);
  assert.equal(status, 200, JSON.stringify(body));
});
