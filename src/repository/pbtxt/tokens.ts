/**
 * The tokens of protobuf text format (protobuf's text_format spec: "Text Format Language
 * Specification"), with the line each starts on so that errors can point at it. Comments run from
 * `#` to the end of the line; strings take '…' or "…" with C escapes and adjacent strings join.
 */

type TokenKind = 'ident' | 'number' | 'string' | 'punct' | 'eof';

export interface Token {
  kind: TokenKind;
  /** An identifier or number as written, a string's decoded value, or the punctuation character. */
  text: string;
  line: number;
}

export class TextFormatError extends Error {
  constructor(
    readonly line: number,
    readonly path: string,
    message: string,
  ) {
    super(message);
    this.name = 'TextFormatError';
  }
}

const PUNCT = new Set(['{', '}', '<', '>', '[', ']', ':', ',', ';', '-']);
const SIMPLE_ESCAPES: Record<string, string> = {
  n: '\n',
  t: '\t',
  r: '\r',
  a: '\x07',
  b: '\b',
  f: '\f',
  v: '\v',
  '\\': '\\',
  "'": "'",
  '"': '"',
  '?': '?',
};

/** Splits `text` into tokens; throws TextFormatError for an unterminated string or a stray character. */
export function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  let line = 1;
  const n = text.length;
  while (i < n) {
    const c = text[i]!;
    if (c === '\n') {
      line += 1;
      i += 1;
    } else if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v') {
      i += 1;
    } else if (c === '#') {
      while (i < n && text[i] !== '\n') i += 1;
    } else if (c === '"' || c === "'") {
      const [value, end] = readString(text, i, line);
      const prev = out[out.length - 1];
      // Adjacent string literals are one value ("a" "b" == "ab"), as in C.
      if (prev?.kind === 'string') prev.text += value;
      else out.push({ kind: 'string', text: value, line });
      i = end;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i, i + 256))!;
      out.push({ kind: 'ident', text: m[0], line });
      i += m[0].length;
    } else if (/[0-9.]/.test(c)) {
      const m = /^(0[xX][0-9a-fA-F]+|[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?[fF]?|[0-9]+\.)/.exec(
        text.slice(i, i + 256),
      );
      if (!m) throw new TextFormatError(line, '', `unexpected character '${c}'`);
      out.push({ kind: 'number', text: m[0], line });
      i += m[0].length;
    } else if (PUNCT.has(c)) {
      out.push({ kind: 'punct', text: c, line });
      i += 1;
    } else {
      throw new TextFormatError(line, '', `unexpected character '${c}'`);
    }
  }
  out.push({ kind: 'eof', text: '', line });
  return out;
}

function readString(text: string, start: number, line: number): [string, number] {
  const quote = text[start]!;
  let i = start + 1;
  let value = '';
  for (;;) {
    const c = text[i];
    if (c === undefined || c === '\n') throw new TextFormatError(line, '', 'unterminated string');
    i += 1;
    if (c === quote) return [value, i];
    if (c !== '\\') {
      value += c;
      continue;
    }
    const e = text[i] ?? '';
    i += 1;
    if (e in SIMPLE_ESCAPES) {
      value += SIMPLE_ESCAPES[e];
    } else if (e === 'x' || e === 'X') {
      const m = /^[0-9a-fA-F]{1,2}/.exec(text.slice(i, i + 2));
      if (!m) throw new TextFormatError(line, '', 'bad \\x escape in string');
      value += String.fromCharCode(parseInt(m[0], 16));
      i += m[0].length;
    } else if (/[0-7]/.test(e)) {
      const m = /^[0-7]{0,2}/.exec(text.slice(i, i + 2))!;
      value += String.fromCharCode(parseInt(e + m[0], 8));
      i += m[0].length;
    } else {
      throw new TextFormatError(line, '', `unknown escape '\\${e}' in string`);
    }
  }
}
