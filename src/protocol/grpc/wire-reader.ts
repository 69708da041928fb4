/**
 * Just enough of the protobuf wire format (protobuf.dev/programming-guides/encoding) to walk a
 * message without building it: tags, varints, lengths and skipping. Nothing here allocates per
 * field. Proto3 has no groups (wire types 3 and 4); a message that holds one is refused, since
 * protobufjs skips groups recursively.
 */
import { InferdError } from '../../errors.js';

export const VARINT = 0;
export const I64 = 1;
export const LEN = 2;
export const I32 = 5;

export function malformed(why: string): InferdError {
  return new InferdError('invalid_request', `the ModelInferRequest message is malformed: ${why}`);
}

export class WireReader {
  pos: number;

  constructor(
    readonly buf: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  /** A varint of at most 32 significant bits (tags, lengths); longer ones are refused. */
  varint32(): number {
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (this.pos >= this.end) throw malformed('a varint runs past the end');
      const b = this.buf[this.pos++]!;
      value += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) {
        if (value > 0xffffffff) throw malformed('a length or tag is above 2^32');
        return value;
      }
    }
    throw malformed('a length or tag is longer than 5 bytes');
  }

  /** Skips one varint of up to 10 bytes (any 64-bit value). */
  skipVarint(): void {
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw malformed('a varint runs past the end');
      if (this.buf[this.pos++]! < 0x80) return;
    }
    throw malformed('a varint is longer than 10 bytes');
  }

  /** The [start, end) of a length-delimited field's payload; the reader moves past it. */
  len(): [number, number] {
    const n = this.varint32();
    const start = this.pos;
    if (n > this.end - start) throw malformed('a length-delimited field runs past the end');
    this.pos = start + n;
    return [start, this.pos];
  }

  /** Skips a field's payload of the given wire type. */
  skip(wireType: number): void {
    switch (wireType) {
      case VARINT:
        this.skipVarint();
        return;
      case I64:
        this.fixed(8);
        return;
      case LEN:
        this.len();
        return;
      case I32:
        this.fixed(4);
        return;
      default:
        throw malformed(`wire type ${wireType} (groups are not proto3)`);
    }
  }

  private fixed(n: number): void {
    if (n > this.end - this.pos) throw malformed('a fixed-size field runs past the end');
    this.pos += n;
  }
}

/** Varints in [start, end): the count of their last bytes; refuses a range that ends mid-varint. */
export function countVarints(buf: Uint8Array, start: number, end: number): number {
  let n = 0;
  for (let i = start; i < end; i++) if (buf[i]! < 0x80) n += 1;
  if (end > start && buf[end - 1]! >= 0x80) throw malformed('a packed varint runs past its field');
  return n;
}
