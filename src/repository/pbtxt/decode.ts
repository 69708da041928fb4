/**
 * Decodes protobuf text format against a message type read from the real .proto (protobufjs
 * reflection), into the JSON shape Triton prints: snake_case names, enums by name, 64-bit integers
 * as numbers, maps as objects. Unknown fields, values of the wrong type or out of range, a
 * singular field given twice and two members of one oneof are refused with the line and the field.
 */
import protobuf from 'protobufjs';
import { TextFormatError, tokenize, type Token } from './tokens.js';

/** Nesting deeper than this is refused (Triton configs nest about 5 deep). */
const MAX_DEPTH = 32;

export interface Decoded {
  value: Record<string, unknown>;
  /** Field path (`input.0.dims`) → the line it was written on. */
  lines: Map<string, number>;
}

const INT_RANGES: Record<string, [number, number]> = {
  int32: [-(2 ** 31), 2 ** 31 - 1],
  sint32: [-(2 ** 31), 2 ** 31 - 1],
  sfixed32: [-(2 ** 31), 2 ** 31 - 1],
  uint32: [0, 2 ** 32 - 1],
  fixed32: [0, 2 ** 32 - 1],
  // 64-bit fields become JSON numbers: bounded to what a double holds exactly.
  int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  sint64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  sfixed64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  uint64: [0, Number.MAX_SAFE_INTEGER],
  fixed64: [0, Number.MAX_SAFE_INTEGER],
};

export function decodeTextFormat(text: string, type: protobuf.Type): Decoded {
  const lines = new Map<string, number>();
  const p = new Parser(tokenize(text), lines);
  const value = p.message(type, '', 'eof', 0);
  return { value, lines };
}

class Parser {
  private pos = 0;

  constructor(
    private readonly tokens: Token[],
    private readonly lines: Map<string, number>,
  ) {}

  private peek(): Token {
    return this.tokens[this.pos]!;
  }

  private next(): Token {
    const t = this.tokens[this.pos]!;
    if (t.kind !== 'eof') this.pos += 1;
    return t;
  }

  private isPunct(text: string): boolean {
    const t = this.peek();
    return t.kind === 'punct' && t.text === text;
  }

  private expect(text: string, path: string): Token {
    const t = this.next();
    if (t.kind !== 'punct' || t.text !== text) {
      throw new TextFormatError(t.line, path, `expected '${text}' but found ${describe(t)}`);
    }
    return t;
  }

  /** Fields up to `end` ('}', '>' or the end of the text). */
  message(type: protobuf.Type, path: string, end: string, depth: number): Record<string, unknown> {
    if (depth > MAX_DEPTH)
      throw new TextFormatError(this.peek().line, path, `nested deeper than ${MAX_DEPTH}`);
    const out: Record<string, unknown> = {};
    const oneofSet = new Map<string, string>();
    for (;;) {
      const t = this.peek();
      if (end === 'eof' ? t.kind === 'eof' : t.kind === 'punct' && t.text === end) {
        this.next();
        return out;
      }
      if (t.kind === 'eof') throw new TextFormatError(t.line, path, `missing '${end}'`);
      const nameTok = this.next();
      if (nameTok.kind !== 'ident') {
        throw new TextFormatError(nameTok.line, path, `expected a field name but found ${describe(nameTok)}`);
      }
      const field = type.fields[nameTok.text];
      const fieldPath = path ? `${path}.${nameTok.text}` : nameTok.text;
      if (!field) {
        const known = Object.keys(type.fields).sort().join(', ');
        throw new TextFormatError(
          nameTok.line,
          fieldPath,
          `unknown field '${nameTok.text}' in ${type.name} (known: ${known})`,
        );
      }
      field.resolve();
      if (field.partOf) {
        const other = oneofSet.get(field.partOf.name);
        if (other !== undefined && other !== field.name) {
          throw new TextFormatError(
            nameTok.line,
            fieldPath,
            `'${field.name}' and '${other}' are both set but only one of ${field.partOf.oneof.join(', ')} may be`,
          );
        }
        oneofSet.set(field.partOf.name, field.name);
      }
      this.field(field, out, fieldPath, nameTok.line, depth);
      // Fields may be separated by ',' or ';'.
      if (this.isPunct(',') || this.isPunct(';')) this.next();
    }
  }

  private field(
    field: protobuf.Field,
    out: Record<string, unknown>,
    path: string,
    line: number,
    depth: number,
  ): void {
    const isMessage = field.resolvedType instanceof protobuf.Type || field.map;
    if (this.isPunct(':')) this.next();
    else if (!isMessage) throw new TextFormatError(line, path, `expected ':' after '${field.name}'`);

    const many = field.repeated || field.map;
    if (!many && out[field.name] !== undefined) {
      throw new TextFormatError(line, path, `'${field.name}' is given twice but is not a repeated field`);
    }
    if (this.isPunct('[')) {
      if (!many)
        throw new TextFormatError(
          line,
          path,
          `'${field.name}' is not a repeated field; a list is not allowed`,
        );
      this.next();
      while (!this.isPunct(']')) {
        this.one(field, out, path, depth);
        if (this.isPunct(',')) this.next();
        else if (!this.isPunct(']')) this.expect(']', path);
      }
      this.next();
      if (!out[field.name]) out[field.name] = field.map ? {} : [];
      return;
    }
    this.one(field, out, path, depth);
  }

  /** One value of `field` (one element of a repeated field, one entry of a map). */
  private one(field: protobuf.Field, out: Record<string, unknown>, path: string, depth: number): void {
    const start = this.peek();
    if (field instanceof protobuf.MapField) {
      const entries = (out[field.name] ??= {}) as Record<string, unknown>;
      const [key, value] = this.mapEntry(field, path, depth);
      this.lines.set(`${path}.${key}`, start.line);
      entries[key] = value;
      return;
    }
    if (field.repeated) {
      const list = (out[field.name] ??= []) as unknown[];
      const itemPath = `${path}.${list.length}`;
      this.lines.set(itemPath, start.line);
      if (!this.lines.has(path)) this.lines.set(path, start.line);
      list.push(this.value(field.type, field.resolvedType, itemPath, depth));
      return;
    }
    this.lines.set(path, start.line);
    out[field.name] = this.value(field.type, field.resolvedType, path, depth);
  }

  private mapEntry(field: protobuf.MapField, path: string, depth: number): [string, unknown] {
    const open = this.next();
    if (open.kind !== 'punct' || (open.text !== '{' && open.text !== '<')) {
      throw new TextFormatError(open.line, path, `expected '{' for an entry of '${field.name}'`);
    }
    const close = open.text === '{' ? '}' : '>';
    let key: string | undefined;
    let value: unknown;
    while (!this.isPunct(close)) {
      const name = this.next();
      if (name.kind !== 'ident' || (name.text !== 'key' && name.text !== 'value')) {
        throw new TextFormatError(
          name.line,
          path,
          `a map entry holds 'key' and 'value', found ${describe(name)}`,
        );
      }
      const isMessage = name.text === 'value' && field.resolvedType instanceof protobuf.Type;
      if (this.isPunct(':')) this.next();
      else if (!isMessage) throw new TextFormatError(name.line, path, `expected ':' after '${name.text}'`);
      if (name.text === 'key') key = String(this.value(field.keyType, null, `${path}.key`, depth));
      else value = this.value(field.type, field.resolvedType, `${path}.${key ?? 'value'}`, depth);
      if (this.isPunct(',') || this.isPunct(';')) this.next();
    }
    this.next();
    if (key === undefined)
      throw new TextFormatError(open.line, path, `a map entry of '${field.name}' has no key`);
    if (value === undefined) value = defaultOf(field.type, field.resolvedType);
    return [key, value];
  }

  private value(
    typeName: string,
    resolved: protobuf.Type | protobuf.Enum | null,
    path: string,
    depth: number,
  ): unknown {
    if (resolved instanceof protobuf.Type) {
      const open = this.next();
      if (open.kind !== 'punct' || (open.text !== '{' && open.text !== '<')) {
        throw new TextFormatError(
          open.line,
          path,
          `expected '{' to open a ${resolved.name} but found ${describe(open)}`,
        );
      }
      return this.message(resolved, path, open.text === '{' ? '}' : '>', depth + 1);
    }
    if (resolved instanceof protobuf.Enum) return this.enumValue(resolved, path);
    return this.scalar(typeName, path);
  }

  private enumValue(e: protobuf.Enum, path: string): string {
    const t = this.next();
    if (t.kind === 'ident' && t.text in e.values) return t.text;
    if (t.kind === 'number' && /^\d+$/.test(t.text)) {
      const name = e.valuesById[Number(t.text)];
      if (name !== undefined) return name;
    }
    throw new TextFormatError(
      t.line,
      path,
      `${describe(t)} is not a ${e.name}; one of ${Object.keys(e.values).join(', ')}`,
    );
  }

  private scalar(type: string, path: string): unknown {
    let neg = false;
    if (this.isPunct('-')) {
      this.next();
      neg = true;
    }
    const t = this.next();
    if (type === 'string' || type === 'bytes') {
      if (t.kind !== 'string' || neg)
        throw new TextFormatError(t.line, path, `expected a string but found ${describe(t)}`);
      return t.text;
    }
    if (type === 'bool') {
      if (!neg && (t.text === 'true' || t.text === 't' || t.text === '1') && t.kind !== 'string') return true;
      if (!neg && (t.text === 'false' || t.text === 'f' || t.text === '0') && t.kind !== 'string')
        return false;
      throw new TextFormatError(t.line, path, `expected true or false but found ${describe(t)}`);
    }
    if (type === 'float' || type === 'double') {
      const word = t.kind === 'ident' ? t.text.toLowerCase() : '';
      if (word === 'inf' || word === 'infinity') return neg ? -Infinity : Infinity;
      if (word === 'nan') return NaN;
      if (t.kind !== 'number')
        throw new TextFormatError(t.line, path, `expected a number but found ${describe(t)}`);
      const v = Number(t.text.replace(/[fF]$/, ''));
      return neg ? -v : v;
    }
    const range = INT_RANGES[type];
    if (!range) throw new TextFormatError(t.line, path, `field type '${type}' is not supported`);
    if (t.kind !== 'number' || !/^(0[xX][0-9a-fA-F]+|\d+)$/.test(t.text)) {
      throw new TextFormatError(t.line, path, `expected an integer (${type}) but found ${describe(t)}`);
    }
    const v = (neg ? -1 : 1) * Number(t.text);
    if (!Number.isSafeInteger(v) || v < range[0] || v > range[1]) {
      throw new TextFormatError(
        t.line,
        path,
        `${neg ? '-' : ''}${t.text} is out of range for ${type} [${range[0]}, ${range[1]}]`,
      );
    }
    return v;
  }
}

function defaultOf(type: string, resolved: protobuf.Type | protobuf.Enum | null): unknown {
  if (resolved instanceof protobuf.Type) return {};
  if (resolved instanceof protobuf.Enum) return resolved.valuesById[0];
  if (type === 'string' || type === 'bytes') return '';
  if (type === 'bool') return false;
  return 0;
}

function describe(t: Token): string {
  if (t.kind === 'eof') return 'the end of the file';
  if (t.kind === 'string') return `"${t.text.slice(0, 40)}"`;
  return `'${t.text.slice(0, 40)}'`;
}
