/**
 * The rendered evaluation set: English pages in several Debian fonts and sizes, upright, rotated
 * (by EXIF orientation tag and by pixels), with light noise and blur. Each case carries the text
 * it was rendered from, line by line, so accuracy is measured against ground truth.
 */
import sharp from 'sharp';
import type { Sharp } from 'sharp';
import { addNoise, layout, renderRaw } from './render.js';

export interface RenderedCase {
  name: string;
  bytes: Buffer;
  lines: string[];
  /** EXIF orientation tag written into the file (1 = none); the reference ignores it. */
  exifOrientation: number;
  /** clean: upright, sharp, roomy; degraded: noise, blur, lossy or dense; rotated: by pixels or EXIF. */
  kind: 'clean' | 'degraded' | 'rotated';
}

const TEXTS = [
  [
    'The quick brown fox jumps over the lazy dog.',
    'Invoice 2024-117: total due 1,284.50 EUR',
    'Please reply before Friday, 14 June.',
  ],
  [
    'Open Inference Protocol version 2',
    'Shipping address: 42 Harbour Road, Leith',
    'Order number 558103 was dispatched today',
  ],
  [
    'Meeting notes from the planning review',
    'Attendees: Alice, Bob and Carol',
    'Next steps are listed on page 3.',
  ],
  [
    'Temperature rose to 31 degrees at noon',
    'Call us on 020 7946 0018 for support',
    'Thank you for your business!',
  ],
];

const FONTS: [string, number][] = [
  ['DejaVu Sans', 30],
  ['DejaVu Serif', 26],
  ['Liberation Sans', 34],
  ['Liberation Serif', 28],
  ['Liberation Mono', 24],
  ['DejaVu Sans Mono', 22],
];

const WIDTH = 960;

function pageHeight(lines: number, size: number): number {
  return Math.round(80 + size * 1.8 * lines);
}

async function png(img: Sharp): Promise<Buffer> {
  return img.png().toBuffer();
}

/** Every case of the set; rendering takes about a second in total. */
export async function renderedSet(): Promise<RenderedCase[]> {
  const cases: RenderedCase[] = [];
  for (const [i, [font, size]] of FONTS.entries()) {
    const lines = TEXTS[i % TEXTS.length];
    const page = await renderRaw(WIDTH, pageHeight(lines.length, size), layout(lines, font, size));
    cases.push({
      name: `${font} ${size}px`,
      bytes: await png(page),
      lines,
      exifOrientation: 1,
      kind: 'clean',
    });
  }
  // A denser page: five lines at 1.35 line spacing, so grown boxes come close to their neighbours.
  const dense = [...TEXTS[1], ...TEXTS[2].slice(0, 2)];
  const densePage = await renderRaw(
    WIDTH,
    60 + Math.round(22 * 1.35 * 5),
    layout(dense, 'Liberation Sans', 22, 30, 20, 1.35),
  );
  cases.push({
    name: 'dense 22px, 1.35 spacing',
    bytes: await png(densePage),
    lines: dense,
    exifOrientation: 1,
    kind: 'degraded',
  });
  const lines = TEXTS[0];
  const base = (): Promise<Sharp> => renderRaw(WIDTH, pageHeight(3, 28), layout(lines, 'DejaVu Sans', 28));
  // Pixels rotated 180°: the classifier must turn the crops back.
  cases.push({
    name: 'rotated 180 pixels',
    bytes: await png((await base()).rotate(180)),
    lines,
    exifOrientation: 1,
    kind: 'rotated',
  });
  cases.push({
    name: 'rotated 90 pixels',
    bytes: await png((await base()).rotate(90)),
    lines,
    exifOrientation: 1,
    kind: 'rotated',
  });
  // Stored rotated, with the EXIF tag that says how to display it upright (JPEG keeps EXIF).
  // Orientation 6 = display rotated 90° clockwise, so the stored pixels are 90° counter-clockwise.
  const stored90 = await (await base()).rotate(-90).png().toBuffer();
  cases.push({
    name: 'EXIF orientation 6 (90°)',
    bytes: await sharp(stored90).jpeg({ quality: 92 }).withMetadata({ orientation: 6 }).toBuffer(),
    lines,
    exifOrientation: 6,
    kind: 'rotated',
  });
  const stored180 = await (await base()).rotate(180).png().toBuffer();
  cases.push({
    name: 'EXIF orientation 3 (180°)',
    bytes: await sharp(stored180).jpeg({ quality: 92 }).withMetadata({ orientation: 3 }).toBuffer(),
    lines,
    exifOrientation: 3,
    kind: 'rotated',
  });
  const noisy = await addNoise(await base(), 40);
  cases.push({ name: 'noise ±40', bytes: await png(noisy), lines, exifOrientation: 1, kind: 'degraded' });
  cases.push({
    name: 'blur σ1.2',
    bytes: await png((await base()).blur(1.2)),
    lines,
    exifOrientation: 1,
    kind: 'degraded',
  });
  cases.push({
    name: 'WebP q60 + noise',
    bytes: await (await addNoise(await base(), 20, 7)).webp({ quality: 60 }).toBuffer(),
    lines,
    exifOrientation: 1,
    kind: 'degraded',
  });
  return cases;
}
