/**
 * Findings 4 (image bombs: decode cost bounded by side, aspect ratio and time), 10 (direct calls to
 * pipeline stages: response size bounded, runtime shape errors as clean 400s) and 12 (pipelines
 * that call themselves refused at load), plus the low finding on image-library text (formats
 * checked by magic bytes). The image cases form their own row of the results table.
 */
import sharp from 'sharp';
import { brokenSvg, image, ocrBody, pngClaiming, svg, truncatedPng, xmlSvg } from './images.js';
import { json, Tally, type CaseContext, type CorpusCase, type HttpResult } from './case.js';

const IMAGE = [400];
const IMAGE_CODES = ['invalid_image'];

function ocr(ctx: CaseContext, bytes: Buffer): Promise<HttpResult> {
  return ctx.http('POST', '/v2/models/ocr/infer', {
    body: ocrBody(bytes),
    headers: { 'content-type': 'application/json' },
  });
}

/** FP32 input `x` of `shape` (zeros) as a binary-extension body. */
function zerosBody(shape: number[]): { body: Buffer; headers: Record<string, string> } {
  const n = shape.reduce((a, b) => a * b, 1);
  const header = Buffer.from(
    json({ inputs: [{ name: 'x', shape, datatype: 'FP32', parameters: { binary_data_size: 4 * n } }] }),
  );
  return {
    body: Buffer.concat([header, Buffer.alloc(4 * n)]),
    headers: { 'inference-header-content-length': String(header.length) },
  };
}

/**
 * A pipeline stage called with an output far larger than its input: a bounded error (413-like,
 * with a code) or a 200, never a 500; the server stays live (the runner's probe).
 */
async function amplified(ctx: CaseContext, shape: number[]): Promise<Tally> {
  const t = new Tally([ctx.repo]);
  const { body, headers } = zerosBody(shape);
  const r = await ctx.http('POST', '/v2/models/ocr-rec/infer', { body, headers, timeoutMs: 90_000 });
  t.http(r, [200, 400, 413, 507]);
  return t;
}

async function cycle(ctx: CaseContext, model: string): Promise<Tally> {
  const t = new Tally([ctx.repo]);
  const ready = await ctx.http('GET', `/v2/models/${model}/ready`);
  t.note(`ready ${ready.status ?? 'none'}`);
  t.check(ready.status !== 200, 'cyclic pipeline READY');
  const index = await ctx.http('POST', '/v2/repository/index', { as: 'admin' });
  const entries = JSON.parse(index.body.toString() || '[]') as Array<{ name: string; state: string }>;
  t.check(
    !entries.some((e) => e.name === model && e.state === 'READY'),
    'cyclic pipeline READY in the index',
  );
  const r = await ctx.http('POST', `/v2/models/${model}/infer`, {
    body: json({ inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] }] }),
    timeoutMs: 5_000,
  });
  t.http(r, [400, 404, 503]);
  return t;
}

export const PIPELINE_CASES: CorpusCase[] = [
  {
    id: 'f4-png-tall',
    finding: '4',
    title:
      'OCR: an 80 KB greyscale PNG of 1 × 40,000,000 pixels (under max_pixels) → 400 invalid_image, quickly',
    async run(ctx) {
      const t = new Tally([ctx.repo]);
      t.http(await ocr(ctx, image('tall')), IMAGE, IMAGE_CODES);
      return t;
    },
  },
  {
    id: 'f4-png-wide',
    finding: '4',
    title: 'OCR: a PNG of 40,000,000 × 1 pixels → 400 invalid_image, quickly',
    profile: 'long',
    async run(ctx) {
      const t = new Tally([ctx.repo]);
      t.http(await ocr(ctx, image('wide')), IMAGE, IMAGE_CODES);
      return t;
    },
  },
  {
    id: 'f4-png-tall-x4',
    finding: '4',
    title:
      'OCR: four 1 × 40,000,000 PNGs at once → four 400s, then an ordinary image is read within the bound',
    profile: 'long',
    async run(ctx) {
      const t = new Tally([ctx.repo]);
      const rs = await Promise.all(Array.from({ length: 4 }, () => ocr(ctx, image('tall'))));
      for (const r of rs) t.http(r, IMAGE, IMAGE_CODES);
      const ordinary = await sharp({
        create: { width: 320, height: 96, channels: 3, background: '#ffffff' },
      })
        .png()
        .toBuffer();
      t.http(await ocr(ctx, ordinary), [200]);
      return t;
    },
  },
  {
    id: 'f4-png-huge-claim',
    finding: '4',
    title: 'OCR: a 100-byte PNG whose header claims 100,000 × 100,000 pixels → 400 invalid_image',
    profile: 'long',
    async run(ctx) {
      const t = new Tally([ctx.repo]);
      t.http(await ocr(ctx, pngClaiming(100_000, 100_000)), IMAGE, IMAGE_CODES);
      return t;
    },
  },
  {
    id: 'low-svg-magic',
    finding: 'low',
    title: 'OCR: a malformed SVG → 400 invalid_image, refused by its magic bytes (no glib/librsvg text)',
    async run(ctx) {
      const t = new Tally([ctx.repo]);
      t.http(await ocr(ctx, brokenSvg()), IMAGE, IMAGE_CODES);
      return t;
    },
  },
  {
    id: 'low-svg-xml-declaration',
    finding: 'low',
    title: 'OCR: an SVG starting with an XML declaration → 400 invalid_image (no svgload text)',
    async run(ctx) {
      const t = new Tally([ctx.repo]);
      t.http(await ocr(ctx, xmlSvg()), IMAGE, IMAGE_CODES);
      return t;
    },
  },
  {
    id: 'low-svg-plain',
    finding: 'low',
    title: 'OCR: a well-formed SVG → 400 invalid_image',
    profile: 'long',
    async run(ctx) {
      const t = new Tally([ctx.repo]);
      t.http(await ocr(ctx, svg(400, 100)), IMAGE, IMAGE_CODES);
      return t;
    },
  },
  {
    id: 'low-svg-huge',
    finding: 'low',
    title: 'OCR: an SVG claiming 100,000 × 100,000 pixels → 400 invalid_image, no library text',
    profile: 'long',
    async run(ctx) {
      const t = new Tally([ctx.repo]);
      t.http(await ocr(ctx, svg(100_000, 100_000)), IMAGE, IMAGE_CODES);
      return t;
    },
  },
  {
    id: 'low-png-truncated',
    finding: 'low',
    title: 'OCR: a PNG cut inside its data → 400 invalid_image, no libpng/vipspng text',
    async run(ctx) {
      const t = new Tally([ctx.repo]);
      t.http(await ocr(ctx, truncatedPng()), IMAGE, IMAGE_CODES);
      return t;
    },
  },
  {
    id: 'low-jpeg-truncated',
    finding: 'low',
    title: 'OCR: a JPEG cut in half → 400 invalid_image, no VipsJpeg text',
    profile: 'long',
    async run(ctx) {
      const t = new Tally([ctx.repo]);
      const jpeg = await sharp({ create: { width: 200, height: 100, channels: 3, background: '#ffffff' } })
        .jpeg()
        .toBuffer();
      t.http(await ocr(ctx, jpeg.subarray(0, jpeg.length >> 1)), IMAGE, IMAGE_CODES);
      return t;
    },
  },
  {
    id: 'f10-det-odd-shape',
    finding: '10',
    title:
      'ocr-det called directly with x [1, 3, 7, 7] (accepted by its dims, refused by the graph) → 400, no ONNX Runtime source path',
    async run(ctx) {
      const t = new Tally([ctx.repo]);
      const { body, headers } = zerosBody([1, 3, 7, 7]);
      t.http(await ctx.http('POST', '/v2/models/ocr-det/infer', { body, headers }), [400]);
      return t;
    },
  },
  {
    id: 'f10-rec-zero-width',
    finding: '10',
    title: 'ocr-rec called directly with x [1, 3, 48, 0] → 400 (not 500 backend_error)',
    async run(ctx) {
      const t = new Tally([ctx.repo]);
      const r = await ctx.http('POST', '/v2/models/ocr-rec/infer', {
        body: json({ inputs: [{ name: 'x', shape: [1, 3, 48, 0], datatype: 'FP32', data: [] }] }),
      });
      t.http(r, [400]);
      return t;
    },
  },
  {
    id: 'f10-rec-amplify',
    finding: '10',
    title:
      'ocr-rec called directly with a 7.4 MB input (x [1, 3, 48, 12800]) → a bounded error with a code, or 200; never 500, server live',
    profile: 'long',
    run: (ctx) => amplified(ctx, [1, 3, 48, 12_800]),
  },
  {
    id: 'f10-rec-batch10',
    finding: '10',
    title:
      'ocr-rec with a batch of 10 (x [10, 3, 48, 2800]) whose JSON answer would pass 512 MB → not 500 "Invalid string length"',
    profile: 'long',
    run: (ctx) => amplified(ctx, [10, 3, 48, 2_800]),
  },
  {
    id: 'f12-self-cycle',
    finding: '12',
    title:
      'A pipeline whose step calls itself is not READY; calling it answers 4xx/503 with a code within 5 s (no deadlock)',
    run: (ctx) => cycle(ctx, 'loop_self'),
  },
  {
    id: 'f12-mutual-cycle',
    finding: '12',
    title: 'Pipelines loop_a → loop_b → loop_a are not READY; calling one answers within 5 s',
    async run(ctx) {
      const a = await cycle(ctx, 'loop_a');
      const b = await cycle(ctx, 'loop_b');
      a.requests += b.requests;
      for (const [k, v] of Object.entries(b.answers)) a.answers[k] = (a.answers[k] ?? 0) + v;
      a.problems.push(...b.problems);
      return a;
    },
  },
];

/** Case ids that form the "image bombs" row (the rest of PIPELINE_CASES is corpus). */
export const IMAGE_CASE_IDS = new Set([
  'f4-png-tall',
  'f4-png-wide',
  'f4-png-tall-x4',
  'f4-png-huge-claim',
  'low-svg-magic',
  'low-svg-xml-declaration',
  'low-svg-plain',
  'low-svg-huge',
  'low-png-truncated',
  'low-jpeg-truncated',
]);
