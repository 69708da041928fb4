/**
 * Names an encoded image's format from its first bytes (its magic number), before any decoder sees
 * it. libvips picks a loader by sniffing too, and it has loaders for far more than OCR accepts
 * (SVG through librsvg, GIF, HEIF, PDF...): deciding here keeps every other format, and the text
 * its library would print about it, away from the decoders and from clients.
 */

/** Formats the OCR pipeline decodes (docs/ocr.md promises exactly these). */
type AcceptedFormat = 'png' | 'jpeg' | 'webp' | 'tiff';

/** Bytes read to tell formats apart: enough for an SVG's `<svg` after an XML prolog and comments. */
const SNIFF_BYTES = 1024;

const startsWith = (b: Uint8Array, sig: readonly number[], at = 0): boolean =>
  b.length >= at + sig.length && sig.every((x, i) => b[at + i] === x);

const ascii = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));

/**
 * The minimal signatures: a file that starts like a PNG but is cut short is "a PNG whose header
 * cannot be read" rather than "an unknown format", which tells the sender more.
 */
const ACCEPTED: ReadonlyArray<[AcceptedFormat, (b: Uint8Array) => boolean]> = [
  ['png', (b) => startsWith(b, [0x89, 0x50, 0x4e, 0x47])],
  ['jpeg', (b) => startsWith(b, [0xff, 0xd8, 0xff])],
  ['webp', (b) => startsWith(b, ascii('RIFF')) && startsWith(b, ascii('WEBP'), 8)],
  // Classic TIFF (42) and BigTIFF (43), little- and big-endian.
  [
    'tiff',
    (b) =>
      startsWith(b, [0x49, 0x49, 0x2a, 0x00]) ||
      startsWith(b, [0x4d, 0x4d, 0x00, 0x2a]) ||
      startsWith(b, [0x49, 0x49, 0x2b, 0x00]) ||
      startsWith(b, [0x4d, 0x4d, 0x00, 0x2b]),
  ],
];

/** Formats recognised only to name them in the refusal. */
const REFUSED: ReadonlyArray<[string, (b: Uint8Array) => boolean]> = [
  ['gif', (b) => startsWith(b, ascii('GIF8'))],
  ['bmp', (b) => startsWith(b, ascii('BM'))],
  ['pdf', (b) => startsWith(b, ascii('%PDF'))],
  ['heif', (b) => startsWith(b, ascii('ftyp'), 4)],
  ['jpeg2000', (b) => startsWith(b, [0, 0, 0, 0x0c, 0x6a, 0x50, 0x20, 0x20])],
  ['jpegxl', (b) => startsWith(b, [0xff, 0x0a]) || startsWith(b, [0, 0, 0, 0x0c, 0x4a, 0x58, 0x4c, 0x20])],
  ['ico', (b) => startsWith(b, [0, 0, 1, 0])],
  ['gzip', (b) => startsWith(b, [0x1f, 0x8b])],
];

/** SVG or other XML/HTML text: starts with `<` after an optional BOM and whitespace. */
function markup(b: Uint8Array): string | undefined {
  let i = startsWith(b, [0xef, 0xbb, 0xbf]) ? 3 : 0;
  while (i < b.length && (b[i] === 0x20 || b[i] === 0x09 || b[i] === 0x0a || b[i] === 0x0d)) i++;
  if (b[i] !== 0x3c) return undefined;
  const head = Buffer.from(b.buffer, b.byteOffset, Math.min(b.length, SNIFF_BYTES)).toString('latin1');
  return /<svg[\s>/]/i.test(head) ? 'svg' : 'xml';
}

export type Sniffed = { accepted: true; format: AcceptedFormat } | { accepted: false; format: string };

/** The format the bytes announce; `unknown` when nothing matches. Reads at most 1 KiB. */
export function sniffImageFormat(bytes: Uint8Array): Sniffed {
  for (const [format, test] of ACCEPTED) if (test(bytes)) return { accepted: true, format };
  for (const [format, test] of REFUSED) if (test(bytes)) return { accepted: false, format };
  return { accepted: false, format: markup(bytes) ?? 'unknown' };
}
