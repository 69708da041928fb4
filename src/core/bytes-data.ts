/**
 * Storage of a BYTES tensor: every element's bytes in one buffer, and n + 1 offsets into it
 * (element i is `bytes[offsets[i], offsets[i + 1])`). One object per tensor instead of one
 * Uint8Array per element: a request of millions of short strings costs 4 bytes per element here,
 * where a Uint8Array per element cost about 190 bytes of heap (and as many objects for the GC).
 *
 * Contract: a BytesData is not mutated after it is made; `slice` shares the buffer.
 * Offsets are 32-bit, so one tensor holds at most 4 GiB - 1 of element bytes (request bodies and
 * gRPC messages are limited to 2 GiB).
 *
 * `texts` keeps the elements' UTF-8 text when the tensor was made from strings (JSON, ONNX
 * Runtime's string outputs): a JSON request to a text model is then transcoded once each way,
 * not four times (string → bytes, bytes → string for the runtime, and back for its outputs).
 */
import { isAscii, isUtf8 } from 'node:buffer';

/**
 * Invalid sequences become U+FFFD rather than failing, for text views of bytes that are not text
 * (logs, JSON of a tensor that is not UTF-8); backends that need text check firstNonUtf8 first.
 */
const decoder = new TextDecoder();

const MAX_BYTES = 0xffffffff;

export class BytesData {
  /**
   * Contract (not re-checked): `offsets` has n + 1 entries, never decreases, and its last entry is
   * within `bytes`; `texts`, when given, holds the n elements' text.
   */
  constructor(
    readonly bytes: Uint8Array,
    readonly offsets: Uint32Array,
    private texts?: readonly string[],
  ) {}

  /**
   * UTF-8 encodes each string into one buffer (two passes: sizes, then bytes). The array is kept
   * as the elements' text: the caller must not change it afterwards.
   */
  static fromStrings(items: readonly string[]): BytesData {
    const n = items.length;
    const offsets = new Uint32Array(n + 1);
    let total = 0;
    for (let i = 0; i < n; i++) {
      total += Buffer.byteLength(items[i]!, 'utf8');
      if (total > MAX_BYTES) throw new RangeError('a BYTES tensor holds at most 4 GiB');
      offsets[i + 1] = total;
    }
    // Not from Buffer's shared pool: the buffer may be transferred to another thread.
    const bytes = Buffer.allocUnsafeSlow(total);
    for (let i = 0; i < n; i++) {
      const s = items[i]!;
      if (s.length > 0) bytes.write(s, offsets[i]!, 'utf8');
    }
    return new BytesData(new Uint8Array(bytes.buffer, 0, total), offsets, items);
  }

  /** Copies separate elements into one buffer. */
  static fromArrays(items: readonly Uint8Array[]): BytesData {
    const n = items.length;
    const offsets = new Uint32Array(n + 1);
    let total = 0;
    for (let i = 0; i < n; i++) {
      total += items[i]!.byteLength;
      if (total > MAX_BYTES) throw new RangeError('a BYTES tensor holds at most 4 GiB');
      offsets[i + 1] = total;
    }
    const bytes = new Uint8Array(total);
    for (let i = 0; i < n; i++) bytes.set(items[i]!, offsets[i]!);
    return new BytesData(bytes, offsets);
  }

  /** Parts one after the other (the scheduler's batch concatenation). */
  static concat(parts: readonly BytesData[]): BytesData {
    if (parts.length === 1) return parts[0]!;
    let n = 0;
    let total = 0;
    for (const p of parts) {
      n += p.length;
      total += p.byteLength;
    }
    if (total > MAX_BYTES) throw new RangeError('a BYTES tensor holds at most 4 GiB');
    const bytes = new Uint8Array(total);
    const offsets = new Uint32Array(n + 1);
    const texts: string[] | undefined = parts.every((p) => p.texts) ? [] : undefined;
    let i = 0;
    let at = 0;
    for (const p of parts) {
      const base = p.offsets[0]!;
      bytes.set(p.bytes.subarray(base, p.offsets[p.length]), at);
      for (let j = 1; j <= p.length; j++) offsets[i + j] = at + p.offsets[j]! - base;
      i += p.length;
      at += p.byteLength;
      if (texts) for (const t of p.texts!) texts.push(t);
    }
    return new BytesData(bytes, offsets, texts);
  }

  /** Number of elements. */
  get length(): number {
    return this.offsets.length - 1;
  }

  /** Total bytes of the elements (without any length prefixes). */
  get byteLength(): number {
    return this.offsets[this.length]! - this.offsets[0]!;
  }

  /** Element i as a view into the shared buffer (no copy). */
  at(i: number): Uint8Array {
    return this.bytes.subarray(this.offsets[i], this.offsets[i + 1]);
  }

  /** Byte length of element i. */
  sizeOf(i: number): number {
    return this.offsets[i + 1]! - this.offsets[i]!;
  }

  /** Element i decoded as UTF-8. */
  text(i: number): string {
    return this.texts ? this.texts[i]! : decoder.decode(this.at(i));
  }

  /** Every element as UTF-8 text (decoded once and then remembered). */
  toStrings(): readonly string[] {
    if (!this.texts) {
      const out = new Array<string>(this.length);
      for (let i = 0; i < out.length; i++) out[i] = decoder.decode(this.at(i));
      this.texts = out;
    }
    return this.texts;
  }

  /** Elements [from, to): shares the buffer. */
  slice(from: number, to: number): BytesData {
    return new BytesData(this.bytes, this.offsets.subarray(from, to + 1), this.texts?.slice(from, to));
  }

  /**
   * The index of the first element that is not valid UTF-8, or -1 when every element is text
   * (an ASCII buffer is checked at once; otherwise each element on its own, since a multi-byte
   * character may not straddle two elements).
   */
  firstNonUtf8(): number {
    if (isAscii(this.bytes.subarray(this.offsets[0], this.offsets[this.length]))) return -1;
    for (let i = 0; i < this.length; i++) if (!isUtf8(this.at(i))) return i;
    return -1;
  }

  /** Every element as a view into the shared buffer (for APIs that want an array, such as protobufjs). */
  toArrays(): Uint8Array[] {
    const out = new Array<Uint8Array>(this.length);
    for (let i = 0; i < out.length; i++) out[i] = this.at(i);
    return out;
  }
}
