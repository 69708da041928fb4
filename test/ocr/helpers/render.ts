/**
 * Test images rendered from SVG by sharp (librsvg + fontconfig), with Debian fonts chosen by
 * family name (fonts-dejavu-core, fonts-liberation: see .ci/apt-packages.txt), and the character
 * error rate used to score OCR output.
 */
import { execFileSync } from 'node:child_process';
import sharp from 'sharp';
import type { Sharp } from 'sharp';

export interface TextLine {
  text: string;
  font: string;
  size: number;
  /** Left edge and baseline, pixels. */
  x: number;
  y: number;
  weight?: 'normal' | 'bold';
}

const escapeXml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function svgPage(width: number, height: number, lines: readonly TextLine[]): Buffer {
  const body = lines
    .map(
      (l) =>
        `<text x="${l.x}" y="${l.y}" font-family="${l.font}" font-size="${l.size}" font-weight="${l.weight ?? 'normal'}" fill="#111">${escapeXml(l.text)}</text>`,
    )
    .join('');
  return Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="100%" height="100%" fill="#fff"/>${body}</svg>`,
  );
}

/** Lays out `texts` one per line from the top, in the given font and size. */
export function layout(
  texts: readonly string[],
  font: string,
  size: number,
  left = 40,
  top = 40,
  gap = 1.8,
): TextLine[] {
  return texts.map((text, i) => ({ text, font, size, x: left, y: Math.round(top + size + i * size * gap) }));
}

/** Raw RGB pixels of a page, for post-processing (noise, blur, rotation) before encoding. */
export async function renderRaw(width: number, height: number, lines: readonly TextLine[]): Promise<Sharp> {
  const png = await sharp(svgPage(width, height, lines))
    .flatten({ background: '#fff' })
    .png()
    .toBuffer();
  return sharp(png);
}

/** Adds deterministic uniform noise of ±amplitude grey levels (xorshift PRNG) to an image. */
export async function addNoise(img: Sharp, amplitude: number, seed = 12345): Promise<Sharp> {
  const { data, info } = await img.removeAlpha().raw().toBuffer({ resolveWithObject: true });
  let s = seed >>> 0 || 1;
  for (let i = 0; i < data.length; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    const n = ((s % 2001) / 1000 - 1) * amplitude;
    data[i] = Math.min(255, Math.max(0, Math.round(data[i] + n)));
  }
  return sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels } });
}

export function levenshtein(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  let prev = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const cur = [i];
    for (let j = 1; j <= y.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x[i - 1] === y[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[y.length];
}

/** Errors and reference length, to pool CER over a set (sum of edits / sum of lengths). */
export function cerParts(expected: string, actual: string): { edits: number; length: number } {
  return { edits: levenshtein(expected, actual), length: [...expected].length };
}

/** CER pooled over pages (sum of edits / sum of lengths), each page read by `read`. */
export async function corpusCer(
  pages: readonly { bytes: Buffer; text: string }[],
  read: (bytes: Buffer) => Promise<string>,
): Promise<{ edits: number; length: number; percent: number }> {
  let edits = 0;
  let length = 0;
  for (const p of pages) {
    const part = cerParts(p.text, await read(p.bytes));
    edits += part.edits;
    length += part.length;
  }
  return { edits, length, percent: (100 * edits) / length };
}

export function fontAvailable(family: string): boolean {
  try {
    return execFileSync('fc-list', [':', 'family'], { encoding: 'utf8' }).includes(family);
  } catch {
    return false;
  }
}
