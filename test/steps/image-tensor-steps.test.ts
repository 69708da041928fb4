/**
 * The generic step packages: `image.preprocess` (encoded images → a classifier's FP32 batch, as a
 * Triton ensemble's pre-processing model) and `tensor.identity` (bytes unchanged).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import sharp from 'sharp';
import { BytesData, type Tensor } from '../../src/core/tensor.js';
import type { StepContext, StepRunner } from '../../src/runtime/pipeline/registry.js';
import { preprocessStep, scale, writeImage } from '../../src/steps/image/preprocess.js';
import { identityStep } from '../../src/steps/tensor/identity.js';

const logger = pino({ level: 'silent' });
const loadCtx = { modelName: 'm', versionDir: '/nonexistent', logger };
const ctx = { logger, modelName: 'm' } as unknown as StepContext;

const bytes = (items: Uint8Array[], shape = [items.length]): Tensor => ({
  name: 'image',
  datatype: 'BYTES',
  shape,
  data: BytesData.fromArrays(items),
});

async function runner(params: Record<string, unknown>): Promise<StepRunner> {
  return preprocessStep.create(params, loadCtx);
}

const solid = (w: number, h: number, rgb: [number, number, number], fmt: 'png' | 'jpeg'): Promise<Buffer> => {
  const img = sharp({
    create: { width: w, height: h, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } },
  });
  return (fmt === 'png' ? img.png() : img.jpeg({ quality: 100 })).toBuffer();
};

describe('image.preprocess', () => {
  it("scales as Triton's image_client.py: INCEPTION x/127.5−1, VGG x−(123,117,104), NONE x", () => {
    assert.equal(scale(0, 0, 'INCEPTION'), -1);
    assert.equal(scale(255, 2, 'INCEPTION'), 1);
    assert.deepEqual(
      [0, 1, 2].map((c) => scale(200, c, 'VGG')),
      [77, 83, 96],
    );
    assert.equal(scale(17, 1, 'NONE'), 17);
  });

  it('writes NHWC and NCHW layouts at the right offsets', () => {
    const rgb = Uint8Array.from([1, 2, 3, 4, 5, 6]); // 2×1 pixels
    const nhwc = new Float32Array(12);
    writeImage(rgb, nhwc, 1, 2, 1, 'NHWC', 'NONE');
    assert.deepEqual([...nhwc.subarray(6)], [1, 2, 3, 4, 5, 6]);
    const nchw = new Float32Array(6);
    writeImage(rgb, nchw, 0, 2, 1, 'NCHW', 'NONE');
    assert.deepEqual([...nchw], [1, 4, 2, 5, 3, 6]);
  });

  it('decodes a batch of PNG and JPEG, resizes each to the size asked and stacks them', async () => {
    const run = await runner({ width: 8, height: 6, scaling: 'INCEPTION' });
    const imgs = [await solid(40, 30, [255, 0, 0], 'png'), await solid(7, 90, [0, 0, 255], 'jpeg')];
    const { tensor } = await run({ image: bytes(imgs, [2, 1]) }, ctx);
    assert.deepEqual([tensor!.datatype, tensor!.shape], ['FP32', [2, 6, 8, 3]]);
    const d = tensor!.data as Float32Array;
    const px = (n: number): number[] =>
      [...d.subarray(n * 144, n * 144 + 3)].map((v) => Math.round(v * 10) / 10);
    assert.deepEqual(px(0), [1, -1, -1]);
    assert.deepEqual(px(1), [-1, -1, 1]);
  });

  it('NCHW gives [N,3,H,W]', async () => {
    const run = await runner({ width: 4, height: 5, layout: 'NCHW' });
    const { tensor } = await run({ image: bytes([await solid(9, 9, [10, 20, 30], 'png')]) }, ctx);
    assert.deepEqual(tensor!.shape, [1, 3, 5, 4]);
    const d = tensor!.data as Float32Array;
    assert.deepEqual([d[0], d[20], d[40]], [10, 20, 30]);
  });

  it('refuses what is not a batch of encoded images, and bad parameters at load', async () => {
    const run = await runner({ width: 4, height: 4 });
    const numeric: Tensor = { name: 'image', datatype: 'UINT8', shape: [3], data: new Uint8Array(3) };
    await assert.rejects(run({ image: numeric }, ctx), { code: 'invalid_input' });
    const two = bytes([new Uint8Array(1), new Uint8Array(1)], [1, 2]);
    await assert.rejects(run({ image: two }, ctx), { code: 'invalid_input' });
    const many = bytes(Array.from({ length: 257 }, () => new Uint8Array(1)));
    await assert.rejects(run({ image: many }, ctx), /at most 256/);
    await assert.rejects(run({ image: bytes([Buffer.from('not an image')]) }, ctx), {
      code: 'invalid_image',
    });
    await assert.rejects(async () => runner({ width: 0, height: 4 }), { code: 'invalid_config' });
    await assert.rejects(async () => runner({ width: 4, height: 4, scaling: 'FANCY' }), {
      code: 'invalid_config',
    });
    await assert.rejects(async () => runner({ width: 4 }), { code: 'invalid_config' });
  });
});

describe('tensor.identity', () => {
  it('returns BYTES byte for byte, NUL and invalid UTF-8 included, under the output name', async () => {
    const run = await identityStep.create({}, loadCtx);
    const items = [Buffer.from('he\x00llo'), Buffer.from([0xff, 0xfe]), new Uint8Array(0)];
    const { output } = await run({ input: { ...bytes(items), name: 'input' } }, ctx);
    assert.equal(output!.name, 'output');
    const d = output!.data as BytesData;
    assert.deepEqual(
      Array.from({ length: d.length }, (_, i) => Buffer.from(d.at(i)).toString('hex')),
      items.map((b) => Buffer.from(b).toString('hex')),
    );
  });

  it('takes no parameters', async () => {
    await assert.rejects(async () => identityStep.create({ x: 1 }, loadCtx), { code: 'invalid_config' });
  });
});
