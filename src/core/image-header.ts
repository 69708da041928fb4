/**
 * An encoded image's width and height read from its header alone (no pixel is decoded), for the
 * drift features of image inputs (core/drift-features.ts). The formats are the ones OCR accepts
 * (steps/ocr/image-format.ts): PNG, JPEG, WebP, TIFF and BigTIFF.
 *
 * Every number here comes from the client, so the reader is bounded and total: it looks at no
 * more than the first MAX_SCAN_BYTES, follows at most MAX_SEGMENTS JPEG segments and MAX_IFD_ENTRIES
 * TIFF directory entries, never allocates, and answers `undefined` for anything it cannot read
 * (truncated, malformed, zero-sized, or an unknown format) rather than throwing. Sizes are the
 * stored ones: an EXIF orientation swaps width and height but changes neither the pixel count nor
 * the longer side, which are what drift measures.
 */

interface ImageSize {
  width: number;
  height: number;
}

/**
 * Bytes looked at: JPEG writers put EXIF and ICC profiles (up to 64 KiB per segment, a few
 * segments) before the frame header; 1 MiB covers those with room and bounds a hostile file.
 */
const MAX_SCAN_BYTES = 1024 * 1024;
/** JPEG segments followed before giving up (a real file has a dozen before its frame header). */
const MAX_SEGMENTS = 1024;
/** TIFF directory entries read (baseline TIFF has about 15 in the first directory). */
const MAX_IFD_ENTRIES = 4096;

const sized = (width: number, height: number): ImageSize | undefined =>
  width > 0 && height > 0 ? { width, height } : undefined;

const ascii = (b: Uint8Array, at: number, s: string): boolean =>
  b.length >= at + s.length && [...s].every((c, i) => b[at + i] === c.charCodeAt(0));

/** PNG: the IHDR chunk comes first (PNG §11.2.2), width and height big-endian at bytes 16 and 20. */
function png(v: DataView): ImageSize | undefined {
  if (v.byteLength < 24 || !ascii(new Uint8Array(v.buffer, v.byteOffset, 16), 12, 'IHDR')) return undefined;
  return sized(v.getUint32(16), v.getUint32(20));
}

/** JPEG: walk the marker segments to the first start-of-frame (ITU T.81 §B.2). */
function jpeg(v: DataView): ImageSize | undefined {
  let at = 2;
  for (let seg = 0; seg < MAX_SEGMENTS; seg++) {
    if (at + 4 > v.byteLength || v.getUint8(at) !== 0xff) return undefined;
    const marker = v.getUint8(at + 1);
    if (marker === 0xff) {
      at += 1; // fill byte before a marker
      continue;
    }
    // Markers without a length: TEM and RST0–7. End of image or start of scan before a frame: none.
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      at += 2;
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) return undefined;
    const length = v.getUint16(at + 2);
    if (length < 2) return undefined;
    // SOF0–SOF15 except DHT (C4), JPG (C8) and DAC (CC): precision, height, width.
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      if (at + 9 > v.byteLength) return undefined;
      return sized(v.getUint16(at + 7), v.getUint16(at + 5));
    }
    at += 2 + length;
  }
  return undefined;
}

/** WebP: the first chunk after `RIFF....WEBP` is VP8 (lossy), VP8L (lossless) or VP8X (extended). */
function webp(v: DataView): ImageSize | undefined {
  const b = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  if (ascii(b, 12, 'VP8 ') && v.byteLength >= 30) {
    // RFC 6386 §9.1: a 3-byte frame tag, the start code 9d 01 2a, then 14-bit width and height.
    if (b[23] !== 0x9d || b[24] !== 0x01 || b[25] !== 0x2a) return undefined;
    return sized(v.getUint16(26, true) & 0x3fff, v.getUint16(28, true) & 0x3fff);
  }
  if (ascii(b, 12, 'VP8L') && v.byteLength >= 25) {
    // RFC 9649 §3.2: signature 0x2f, then width − 1 and height − 1 in 14 bits each, LSB first.
    if (b[20] !== 0x2f) return undefined;
    const bits = v.getUint32(21, true);
    return sized((bits & 0x3fff) + 1, ((bits >>> 14) & 0x3fff) + 1);
  }
  if (ascii(b, 12, 'VP8X') && v.byteLength >= 30) {
    // RFC 9649 §3.7: canvas width − 1 and height − 1, 24 bits little-endian each.
    const u24 = (at: number): number => v.getUint16(at, true) + (v.getUint8(at + 2) << 16);
    return sized(u24(24) + 1, u24(27) + 1);
  }
  return undefined;
}

/** TIFF 6.0 §2 and BigTIFF: ImageWidth (256) and ImageLength (257) in the first directory. */
function tiff(v: DataView): ImageSize | undefined {
  const le = v.getUint8(0) === 0x49;
  const big = v.getUint16(2, le) === 43;
  const u64 = (at: number): number => Number(v.getBigUint64(at, le));
  if (big && v.byteLength < 16) return undefined;
  const ifd = big ? u64(8) : v.getUint32(4, le);
  const countBytes = big ? 8 : 2;
  const entryBytes = big ? 20 : 12;
  if (ifd + countBytes > v.byteLength) return undefined;
  const count = Math.min(big ? u64(ifd) : v.getUint16(ifd, le), MAX_IFD_ENTRIES);
  let width = 0;
  let height = 0;
  for (let i = 0; i < count; i++) {
    const at = ifd + countBytes + i * entryBytes;
    if (at + entryBytes > v.byteLength) break;
    const tag = v.getUint16(at, le);
    if (tag !== 256 && tag !== 257) continue;
    const type = v.getUint16(at + 2, le);
    const valueAt = at + (big ? 12 : 8);
    // SHORT (3), LONG (4) or, in BigTIFF, LONG8 (16); the one value sits in the entry itself.
    const value =
      type === 3
        ? v.getUint16(valueAt, le)
        : type === 4
          ? v.getUint32(valueAt, le)
          : type === 16 && big
            ? u64(valueAt)
            : 0;
    if (tag === 256) width = value;
    else height = value;
  }
  return sized(width, height);
}

/** Width and height from the header of a PNG, JPEG, WebP or TIFF; `undefined` when unreadable. */
export function imageSize(bytes: Uint8Array): ImageSize | undefined {
  const b = bytes.subarray(0, MAX_SCAN_BYTES);
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (b.length < 8) return undefined;
  if (b[0] === 0x89 && ascii(b, 1, 'PNG')) return png(v);
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return jpeg(v);
  if (ascii(b, 0, 'RIFF') && ascii(b, 8, 'WEBP')) return webp(v);
  if ((ascii(b, 0, 'II') || ascii(b, 0, 'MM')) && [42, 43].includes(v.getUint16(2, b[0] === 0x49))) {
    return tiff(v);
  }
  return undefined;
}
