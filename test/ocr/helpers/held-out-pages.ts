/**
 * A held-out set of rendered pages for the OCR drift reference (scripts/ocr-drift-reference.ts):
 * the kind of input inferd's OCR was validated on (test/ocr/helpers/dataset.ts), drawn at random
 * from a seeded generator so the set is larger and more varied than the evaluation set and shares
 * none of its texts. Pages vary in width (480–2480 px), shape (a snippet cut to its text, or a
 * portrait page of A4 proportions), line count (1–20), font and size, encoding (PNG, JPEG, WebP)
 * and condition (noise, blur, rotation by pixels). The same seed renders the same pages.
 */
import type { Sharp } from 'sharp';
import { addNoise, layout, renderRaw } from './render.js';

interface HeldOutPage {
  bytes: Buffer;
  /** What was drawn, for the reference's description. */
  width: number;
  height: number;
  lines: number;
}

const FONTS = [
  'DejaVu Sans',
  'DejaVu Serif',
  'DejaVu Sans Mono',
  'Liberation Sans',
  'Liberation Serif',
  'Liberation Mono',
];
const WIDTHS = [480, 640, 800, 960, 1280, 1654, 2048, 2480];
const WORDS = (
  'account address amount april balance bank board budget call card case change city client code ' +
  'company contract cost credit customer date day delivery department details document due email ' +
  'energy estimate final form friday group heating hotel invoice item july june level list manager ' +
  'march meeting member monday month name network notice number office order page paid parcel ' +
  'payment period phone plan please policy price project receipt reference refund region report ' +
  'request return room sale schedule service shipping signed station street summary supplier ' +
  'support table tax team ticket total train transfer travel tuesday unit update value week weight'
).split(' ');

/** xorshift32: small, seeded, the same sequence everywhere. */
function random(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 0x1_0000_0000;
  };
}

function textLine(rnd: () => number, maxChars: number): string {
  const want = Math.max(6, Math.round(maxChars * (0.35 + 0.6 * rnd())));
  const words: string[] = [];
  let n = 0;
  while (n < want) {
    const r = rnd();
    const w =
      r < 0.12
        ? String(Math.floor(rnd() * 100_000))
        : r < 0.18
          ? `${(rnd() * 2000).toFixed(2)} EUR`
          : r < 0.22
            ? `${1 + Math.floor(rnd() * 28)}/${1 + Math.floor(rnd() * 12)}/2026`
            : WORDS[Math.floor(rnd() * WORDS.length)]!;
    words.push(words.length === 0 ? w[0]!.toUpperCase() + w.slice(1) : w);
    n += w.length + 1;
  }
  return words.join(' ').slice(0, maxChars);
}

/** Line counts: many short snippets (labels, receipts), fewer full pages. */
function lineCount(rnd: () => number): number {
  const r = rnd();
  if (r < 0.35) return 1 + Math.floor(rnd() * 3);
  if (r < 0.75) return 4 + Math.floor(rnd() * 6);
  return 10 + Math.floor(rnd() * 11);
}

async function encode(img: Sharp, rnd: () => number): Promise<Buffer> {
  const r = rnd();
  if (r < 0.2) return img.jpeg({ quality: 75 + Math.floor(rnd() * 20) }).toBuffer();
  if (r < 0.3) return img.webp({ quality: 70 + Math.floor(rnd() * 25) }).toBuffer();
  return img.png().toBuffer();
}

export async function renderHeldOutPages(count: number, seed: number): Promise<HeldOutPage[]> {
  const rnd = random(seed);
  const pages: HeldOutPage[] = [];
  for (let p = 0; p < count; p++) {
    const width = WIDTHS[Math.floor(rnd() * WIDTHS.length)]!;
    const font = FONTS[Math.floor(rnd() * FONTS.length)]!;
    // Text from 18 px up to ~1/24 of the width: small print on a wide scan, large on a narrow one.
    const size = Math.round(18 + rnd() * Math.max(4, width / 24 - 18));
    const n = lineCount(rnd);
    const margin = Math.round(width * 0.05);
    const maxChars = Math.floor((width - 2 * margin) / (size * 0.62));
    const texts = Array.from({ length: n }, () => textLine(rnd, maxChars));
    const textHeight = Math.round(2 * margin + size * (1 + 1.8 * n));
    const height = rnd() < 0.4 ? Math.max(textHeight, Math.round(width * 1.414)) : textHeight;
    let img = await renderRaw(width, height, layout(texts, font, size, margin, margin));
    const condition = rnd();
    if (condition < 0.15) img = await addNoise(img, 15 + Math.floor(rnd() * 25), p + 1);
    else if (condition < 0.25) img = img.blur(0.6 + rnd() * 0.6);
    else if (condition < 0.3) img = img.rotate(180);
    else if (condition < 0.33) img = img.rotate(90);
    const rotated90 = condition >= 0.3 && condition < 0.33;
    pages.push({
      bytes: await encode(img, rnd),
      width: rotated90 ? height : width,
      height: rotated90 ? width : height,
      lines: n,
    });
  }
  return pages;
}
