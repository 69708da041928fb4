/**
 * End-to-end accuracy of the `ocr` pipeline (models/ocr/config.json loaded through the pipeline
 * backend, real ONNX models run by onnxruntime-node) on pages rendered by the test itself.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import type { PipelineBackend } from '../../src/runtime/pipeline/backend.js';
import { renderedSet, type RenderedCase } from './helpers/dataset.js';
import { OrtInvoker, loadOcrPipeline, runOcr } from './helpers/ort-invoker.js';
import { cerParts, fontAvailable } from './helpers/render.js';

let invoker: OrtInvoker;
let ocr: PipelineBackend;
let cases: RenderedCase[];

before(async () => {
  for (const family of ['DejaVu Sans', 'DejaVu Serif', 'Liberation Sans', 'Liberation Mono']) {
    assert.ok(fontAvailable(family), `font '${family}' missing: install .ci/apt-packages.txt`);
  }
  invoker = await OrtInvoker.create();
  ocr = await loadOcrPipeline(invoker);
  cases = await renderedSet();
});

after(async () => {
  await invoker.release();
});

test('character error rate over the rendered set is at most 2%', async () => {
  let edits = 0;
  let length = 0;
  const report: string[] = [];
  for (const c of cases) {
    const result = await runOcr(ocr, c.bytes);
    const expected = c.lines.join('\n');
    const part = cerParts(expected, result.text);
    edits += part.edits;
    length += part.length;
    report.push(
      `${c.name}: CER ${((100 * part.edits) / part.length).toFixed(2)}% ${JSON.stringify(result.text)}`,
    );
    // No single case may be badly wrong either (a lost or garbled line is ~30% of a page).
    assert.ok(
      part.edits / part.length <= 0.1,
      `${c.name}: ${JSON.stringify(result.text)} vs ${JSON.stringify(expected)}`,
    );
    assert.equal(result.lines.length, c.lines.length, `${c.name}: one box per rendered line`);
    for (const line of result.lines) assert.ok(line.confidence >= 0.5 && line.confidence <= 1);
  }
  const cer = edits / length;
  console.log(`rendered set: ${cases.length} images, ${length} characters, CER ${(cer * 100).toFixed(2)}%`);
  console.log(report.join('\n'));
  assert.ok(cer <= 0.02, `CER ${(cer * 100).toFixed(2)}% > 2%`);
});

test('boxes are in original-image pixels after EXIF orientation', async () => {
  const exif = cases.find((c) => c.exifOrientation === 6);
  assert.ok(exif);
  const stored = await sharp(exif.bytes).metadata();
  // Orientation 6 displays the stored image turned 90°: width and height swap.
  const [w, h] = [stored.height as number, stored.width as number];
  const result = await runOcr(ocr, exif.bytes);
  assert.equal(result.lines.length, 3);
  for (const line of result.lines) {
    for (const [x, y] of line.box)
      assert.ok(x >= 0 && x < w && y >= 0 && y < h, `${x},${y} outside ${w}×${h}`);
    // Upright after orientation: boxes are wide, not tall.
    assert.ok(line.box[1][0] - line.box[0][0] > 4 * (line.box[3][1] - line.box[0][1]));
  }
  // Lines come top to bottom.
  const ys = result.lines.map((l) => l.box[0][1]);
  assert.deepEqual(
    ys,
    [...ys].sort((a, b) => a - b),
  );
});

test('an image without text gives an empty result, not an error', async () => {
  const blank = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#f4f4f4' } })
    .png()
    .toBuffer();
  const result = await runOcr(ocr, blank);
  assert.deepEqual(result, { text: '', lines: [] });
  // Also with a transparent background (alpha is flattened onto white).
  const clear = await sharp({
    create: { width: 64, height: 64, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } },
  })
    .png()
    .toBuffer();
  assert.deepEqual(await runOcr(ocr, clear), { text: '', lines: [] });
});

test('the angle classifier switch: disabled, a 180° page is unreadable', async () => {
  const upsideDown = cases.find((c) => c.name === 'rotated 180 pixels');
  assert.ok(upsideDown);
  const noCls = await loadOcrPipeline(invoker, (cfg) => {
    const steps = (cfg.pipeline as { steps: { name: string; parameters: Record<string, unknown> }[] }).steps;
    const cls = steps.find((s) => s.name === 'cls');
    assert.ok(cls);
    cls.parameters.enabled = false;
  });
  const expected = upsideDown.lines.join('\n');
  const without = await runOcr(noCls, upsideDown.bytes);
  const withCls = await runOcr(ocr, upsideDown.bytes);
  assert.ok(cerParts(expected, without.text).edits / expected.length > 0.3, without.text);
  assert.ok(cerParts(expected, withCls.text).edits / expected.length < 0.05, withCls.text);
});

test('TIFF, 16-bit greyscale PNG and transparent PNG decode to the same text', async () => {
  const page = cases.find((c) => c.name === 'DejaVu Sans 30px');
  assert.ok(page);
  const expected = page.lines.join('\n');
  const variants: [string, Buffer][] = [
    ['tiff', await sharp(page.bytes).tiff({ compression: 'lzw' }).toBuffer()],
    ['png16 grey', await sharp(page.bytes).greyscale().toColourspace('grey16').png().toBuffer()],
    // Black text on a transparent background: white flattening keeps it readable.
    ['png alpha', await alphaPage(page.bytes)],
  ];
  for (const [name, bytes] of variants) {
    const result = await runOcr(ocr, bytes);
    assert.ok(cerParts(expected, result.text).edits <= 2, `${name}: ${JSON.stringify(result.text)}`);
  }
});

/** The page as black RGB with the ink as alpha (text opaque, paper transparent). */
async function alphaPage(png: Buffer): Promise<Buffer> {
  const { data: ink, info } = await sharp(png)
    .negate()
    .extractChannel(0)
    .raw()
    .toBuffer({ resolveWithObject: true });
  const { width, height } = info;
  return sharp({ create: { width, height, channels: 3, background: '#000' } })
    .joinChannel(ink, { raw: { width, height, channels: 1 } })
    .png()
    .toBuffer();
}
