/** A drill's outcome: result tables (markdown) and the guarantees it checked. */
export interface Guarantee {
  name: string;
  ok: boolean;
  detail: string;
}

export interface DrillResult {
  drill: string;
  title: string;
  /** Markdown: one or more tables, with a line of notes each. */
  tables: string[];
  guarantees: Guarantee[];
  notes: string[];
}

export function mdTable(head: string[], rows: Array<Array<string | number>>): string {
  const cell = (v: string | number): string =>
    typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(1)) : v.replace(/\|/g, '\\|');
  return [
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
  ].join('\n');
}

export function formatResult(r: DrillResult): string {
  return [
    `### ${r.title}`,
    '',
    ...r.tables.flatMap((t) => [t, '']),
    ...r.guarantees.map((g) => `- ${g.ok ? 'PASS' : 'FAIL'}: ${g.name} — ${g.detail}`),
    ...(r.notes.length ? ['', ...r.notes.map((n) => `Note: ${n}`)] : []),
    '',
  ].join('\n');
}
