/**
 * Images the decode step must refuse with invalid_image, before spending memory on them.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { InferdError } from '../../src/errors.js';
import { decodeImage } from '../../src/steps/ocr/image.js';
import type { PipelineBackend } from '../../src/runtime/pipeline/backend.js';
import { OrtInvoker, loadOcrPipeline } from './helpers/ort-invoker.js';

let invoker: OrtInvoker;
let ocr: PipelineBackend;

before(async () => {
  invoker = await OrtInvoker.create();
  ocr = await loadOcrPipeline(invoker);
});
after(async () => invoker.release());

function chunk(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt32BE(body.length);
  const typed = Buffer.concat([Buffer.from(type, 'ascii'), body]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typed));
  return Buffer.concat([head, typed, crc]);
}

/** A 60-byte PNG whose header claims width × height RGB pixels (the data is one tiny row). */
function pngClaiming(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.alloc(1 + width * 3))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

async function refused(bytes: Uint8Array, pattern: RegExp): Promise<void> {
  await assert.rejects(
    ocr.infer([{ name: 'image', datatype: 'BYTES', shape: [1], data: [bytes] }]),
    (e: unknown) => {
      assert.ok(e instanceof InferdError, String(e));
      assert.equal(e.code, 'invalid_image');
      assert.equal(e.httpStatus, 400);
      assert.match(e.message, pattern);
      return true;
    },
  );
}

test('corrupt and truncated images are invalid_image', async () => {
  const good = await sharp({ create: { width: 200, height: 100, channels: 3, background: '#fff' } })
    .jpeg()
    .toBuffer();
  await refused(good.subarray(0, 40), /cannot (read image header|decode jpeg)/);
  await refused(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0, 1, 2, 3]), /cannot read image header/);
  await refused(new Uint8Array(0), /empty/);
});

test('unsupported formats (GIF, SVG, plain text) are invalid_image naming the format', async () => {
  const gif = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#000' } })
    .gif()
    .toBuffer();
  await refused(gif, /unsupported image format 'gif'/);
  await refused(
    Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'),
    /unsupported image format 'svg'/,
  );
  await refused(Buffer.from('hello, this is not an image'), /cannot read image header|unsupported/);
});

test('more bytes than max_bytes is refused before decoding', async () => {
  const small = await loadOcrPipeline(invoker, (cfg) => {
    const steps = (cfg.pipeline as { steps: { name: string; parameters: Record<string, unknown> }[] }).steps;
    const decode = steps.find((s) => s.name === 'decode');
    assert.ok(decode);
    decode.parameters.max_bytes = 1000;
  });
  const png = await sharp({ create: { width: 300, height: 300, channels: 3, background: '#fff' } })
    .png({ compressionLevel: 0 })
    .toBuffer();
  await assert.rejects(
    small.infer([{ name: 'image', datatype: 'BYTES', shape: [1], data: [png] }]),
    (e: unknown) =>
      e instanceof InferdError && e.code === 'invalid_image' && /more than the limit of 1000/.test(e.message),
  );
});

test('a 50-megapixel image is refused from its header, without decoding it', async () => {
  const bomb = pngClaiming(8000, 6400);
  assert.ok(bomb.length < 200);
  const rss = process.memoryUsage().rss;
  const started = performance.now();
  await refused(bomb, /8000×6400 = 51200000 pixels, more than the limit of 40000000/);
  assert.ok(performance.now() - started < 1000);
  assert.ok(process.memoryUsage().rss - rss < 64 * 1024 * 1024);
  // A real, fully valid 50 MP PNG (highly compressible) is refused the same way.
  const real = await sharp({ create: { width: 8000, height: 6400, channels: 3, background: '#fff' } })
    .png({ compressionLevel: 9 })
    .toBuffer();
  await refused(real, /51200000 pixels/);
  // libvips' own limitInputPixels guard is the second line of defence.
  await assert.rejects(decodeImage(real, { maxBytes: 1e9, maxPixels: 1000 }), /pixels/);
});

test('the image input must hold exactly one encoded image', async () => {
  await assert.rejects(
    ocr.infer([
      { name: 'image', datatype: 'BYTES', shape: [2], data: [new Uint8Array(4), new Uint8Array(4)] },
    ]),
    (e: unknown) => e instanceof InferdError && e.code === 'invalid_input',
  );
});
