/**
 * Reads the tables of a committed results file (bench/results/*.md) so that the report's plots are
 * drawn from the very numbers its tables quote, with no second copy to drift. A table is found by
 * the heading above it and the columns it has, never by its position in the file: results files
 * grow by new sections on top.
 */

export interface MdTable {
  /** The nearest `#` heading above the table, without the hashes. */
  heading: string;
  header: string[];
  /** Data rows, keyed by header cell. */
  rows: Record<string, string>[];
}

const cells = (line: string): string[] =>
  line
    .trim()
    .replace(/^\|/, '')
    .replace(/\|$/, '')
    .split('|')
    .map((c) => c.trim());

const isSeparator = (line: string): boolean =>
  /^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$/.test(line.trim());

/** Every pipe table in `markdown`, in order (a table: a header row, a `---` row, data rows). */
export function readTables(markdown: string): MdTable[] {
  const lines = markdown.split('\n');
  const out: MdTable[] = [];
  let heading = '';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const h = /^#{1,6}\s+(.*)$/.exec(line);
    if (h) {
      heading = h[1]!.trim();
      continue;
    }
    if (!line.trim().startsWith('|') || !isSeparator(lines[i + 1] ?? '')) continue;
    const header = cells(line);
    const rows: Record<string, string>[] = [];
    let j = i + 2;
    for (; j < lines.length && lines[j]!.trim().startsWith('|'); j++) {
      const row = cells(lines[j]!);
      rows.push(Object.fromEntries(header.map((name, k) => [name, row[k] ?? ''])));
    }
    out.push({ heading, header, rows });
    i = j - 1;
  }
  return out;
}

/**
 * The first table under a heading matching `heading` that has every one of `columns`; throws with
 * what was looked for, so a results file that changed shape fails the plot loudly.
 */
export function findTable(
  tables: readonly MdTable[],
  heading: RegExp,
  columns: readonly string[],
  source = 'the results',
): MdTable {
  const t = tables.find((t) => heading.test(t.heading) && columns.every((c) => t.header.includes(c)));
  if (!t) {
    throw new Error(
      `${source}: no table under a heading matching ${heading} with columns ${columns.join(', ')}`,
    );
  }
  return t;
}

/** A number as a results file wrote it (`6,614`, `36.0`) and its value. */
export interface Figure {
  value: number;
  text: string;
}

/**
 * The numbers in a cell, in order: `6,614` → 6614; `**0.62** / 6.6` → 0.62, 6.6;
 * `8,142 (10,117 / 6,880 / 8,142)` → 8142, 10117, 6880, 8142; `0.34%` → 0.34; `-` → none.
 * Signs are not read (an en dash or a hyphen joins ranges in these files).
 */
export function figures(cell: string): Figure[] {
  return [...cell.matchAll(/\d{1,3}(?:,\d{3})+(?!\d)(?:\.\d+)?|\d+(?:\.\d+)?/g)].map((m) => ({
    value: Number(m[0].replace(/,/g, '')),
    text: m[0],
  }));
}

export const numbers = (cell: string): number[] => figures(cell).map((f) => f.value);

/** The `index`-th number of a cell; throws when the cell has none there (a dash, a typo). */
export function figureAt(cell: string, index = 0): Figure {
  const f = figures(cell)[index];
  if (f === undefined) throw new Error(`no number #${index + 1} in the cell "${cell}"`);
  return f;
}
