/**
 * The output a doc shows after a command, compared with what the command printed.
 *
 * The doc writes JSON with elisions, and only what it writes is compared (the deterministic
 * parts: keys, labels, codes, and the digits of values it gives in full):
 *   - an object lists the keys it shows; the answer may have more;
 *   - an array has exactly the elements shown, unless it ends with `...` (then at least those);
 *   - a string is compared exactly; `"..."` is any string, `"abc…"` any string starting `abc`;
 *   - a number followed by `…` (`0.833…`) must match to the digits shown (|a − e| < 10^-digits);
 *     a number written without `…` (`0.98`) is illustrative: any number;
 *   - a bare name (`x`, `y`) is any number.
 */

type Pattern =
  | { t: 'object'; entries: [string, Pattern][] }
  | { t: 'array'; items: Pattern[]; open: boolean }
  | { t: 'string'; value: string }
  | { t: 'anyString'; prefix: string }
  | { t: 'number'; value: number; digits: number }
  | { t: 'anyNumber' };

export function parsePattern(text: string): Pattern {
  let i = 0;
  const ws = (): void => {
    while (i < text.length && /\s/.test(text[i])) i++;
  };
  const fail = (what: string): never => {
    throw new Error(`expected output: ${what} at column ${i + 1} of ${text}`);
  };
  const eat = (s: string): boolean => {
    ws();
    if (text.startsWith(s, i)) {
      i += s.length;
      return true;
    }
    return false;
  };
  const str = (): string => {
    const m = /^"(?:[^"\\]|\\.)*"/.exec(text.slice(i));
    if (!m) return fail('a string');
    i += m[0].length;
    return JSON.parse(m[0]) as string;
  };
  const value = (): Pattern => {
    ws();
    if (eat('{')) {
      const entries: [string, Pattern][] = [];
      if (eat('}')) return { t: 'object', entries };
      do {
        ws();
        const key = str();
        if (!eat(':')) fail("':'");
        entries.push([key, value()]);
      } while (eat(','));
      if (!eat('}')) fail("'}'");
      return { t: 'object', entries };
    }
    if (eat('[')) {
      const items: Pattern[] = [];
      let open = false;
      if (eat(']')) return { t: 'array', items, open };
      do {
        if (eat('...') || eat('…')) {
          open = true;
          break;
        }
        items.push(value());
      } while (eat(','));
      if (!eat(']')) fail("']'");
      return { t: 'array', items, open };
    }
    if (text[i] === '"') {
      const s = str();
      if (s === '...' || s === '…') return { t: 'anyString', prefix: '' };
      if (s.endsWith('…')) return { t: 'anyString', prefix: s.slice(0, -1) };
      return { t: 'string', value: s };
    }
    const num = /^-?\d+(?:\.(\d+))?(?:[eE][-+]?\d+)?/.exec(text.slice(i));
    if (num) {
      i += num[0].length;
      if (!eat('…')) return { t: 'anyNumber' };
      return { t: 'number', value: Number(num[0]), digits: num[1]?.length ?? 0 };
    }
    const name = /^[A-Za-z_]\w*/.exec(text.slice(i));
    if (name) {
      i += name[0].length;
      return { t: 'anyNumber' };
    }
    return fail('a value');
  };
  const p = value();
  ws();
  if (i !== text.length) fail('end of text');
  return p;
}

/** The differences between `actual` and the pattern, as `path: what` lines (empty = it matches). */
export function mismatches(p: Pattern, actual: unknown, path = '$'): string[] {
  const show = (v: unknown): string => JSON.stringify(v)?.slice(0, 80) ?? String(v);
  switch (p.t) {
    case 'object': {
      if (typeof actual !== 'object' || actual === null || Array.isArray(actual))
        return [`${path}: not an object: ${show(actual)}`];
      const obj = actual as Record<string, unknown>;
      return p.entries.flatMap(([k, v]) =>
        k in obj ? mismatches(v, obj[k], `${path}.${k}`) : [`${path}: no key '${k}' in ${show(actual)}`],
      );
    }
    case 'array': {
      if (!Array.isArray(actual)) return [`${path}: not an array: ${show(actual)}`];
      const lengthOk = p.open ? actual.length >= p.items.length : actual.length === p.items.length;
      if (!lengthOk)
        return [`${path}: ${actual.length} elements, the doc shows ${p.items.length}: ${show(actual)}`];
      return p.items.flatMap((item, k) => mismatches(item, actual[k], `${path}[${k}]`));
    }
    case 'string':
      return actual === p.value ? [] : [`${path}: ${show(actual)}, the doc says ${show(p.value)}`];
    case 'anyString':
      return typeof actual === 'string' && actual.startsWith(p.prefix)
        ? []
        : [`${path}: ${show(actual)} is not a string starting ${show(p.prefix)}`];
    case 'number':
      return typeof actual === 'number' && Math.abs(actual - p.value) < 10 ** -p.digits
        ? []
        : [`${path}: ${show(actual)}, the doc says ${p.value}…`];
    case 'anyNumber':
      return typeof actual === 'number' ? [] : [`${path}: ${show(actual)} is not a number`];
  }
}
