/**
 * The results table every run writes: one row per part (requests, answers, failures by kind, RSS
 * start/peak/end, hung requests, lost usage records, crashes, 4xx without a code), the acceptance
 * verdicts below it. Failures of a case listed in PENDING_CASES are kept apart: shown, not counted.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { isPending, PROFILE, RSS_GROWTH_LIMIT, STRICT } from '../settings.js';

export interface Rss {
  start: number;
  peak: number;
  end: number;
}

export class PartResult {
  requests = 0;
  readonly answers: Record<string, number> = {};
  readonly failures: Record<string, number> = {};
  /** Failures of pending cases: case id → kinds. */
  readonly pending: Record<string, string[]> = {};
  /** Pending cases not run (short profile). */
  readonly skipped: string[] = [];
  lost?: number;
  rss?: Rss;
  /** Whether this part's RSS is held to the +20% acceptance (the soak). */
  rssAccepted = false;
  seconds = 0;
  readonly notes: string[] = [];
  private readonly started = performance.now();

  constructor(readonly name: string) {}

  answer(key: string, n = 1): void {
    this.requests += n;
    this.answers[key] = (this.answers[key] ?? 0) + n;
  }

  /** Records a failure of `kind`; a pending case's failure is kept apart. */
  fail(kind: string, caseId?: string, n = 1): void {
    if (caseId !== undefined && isPending(caseId)) {
      (this.pending[caseId] ??= []).push(kind);
      return;
    }
    this.failures[kind] = (this.failures[kind] ?? 0) + n;
  }

  count(kind: string): number {
    return this.failures[kind] ?? 0;
  }

  get hung(): number {
    return this.count('hung');
  }

  get crashes(): number {
    return this.count('crash');
  }

  get noCode(): number {
    return this.count('4xx without code');
  }

  get failed(): number {
    return Object.values(this.failures).reduce((a, b) => a + b, 0);
  }

  finish(): void {
    this.seconds = (performance.now() - this.started) / 1000;
  }
}

export class Results {
  readonly parts: PartResult[] = [];
  /** Further tables (the corpus verdicts), appended after the acceptance. */
  readonly sections: Array<{ title: string; body: string }> = [];
  private readonly started = Date.now();

  part(name: string): PartResult {
    const p = new PartResult(name);
    this.parts.push(p);
    return p;
  }

  totals(): { crashes: number; hung: number; lost: number; noCode: number; failed: number } {
    const sum = (f: (p: PartResult) => number): number => this.parts.reduce((a, p) => a + f(p), 0);
    return {
      crashes: sum((p) => p.crashes),
      hung: sum((p) => p.hung),
      lost: sum((p) => p.lost ?? 0),
      noCode: sum((p) => p.noCode),
      failed: sum((p) => p.failed),
    };
  }

  /** RSS verdicts of the parts held to the +20% bound. */
  rssVerdicts(): Array<{ part: string; rss: Rss; ok: boolean }> {
    return this.parts
      .filter((p) => p.rssAccepted && p.rss)
      .map((p) => ({ part: p.name, rss: p.rss!, ok: p.rss!.end <= p.rss!.start * (1 + RSS_GROWTH_LIMIT) }));
  }

  markdown(): string {
    const fmt = (x: number): string => x.toFixed(0);
    const list = (r: Record<string, number>, max = 8): string => {
      const entries = Object.entries(r).sort((a, b) => b[1] - a[1]);
      if (entries.length === 0) return '-';
      const shown = entries.slice(0, max).map(([k, v]) => `${k}: ${v}`);
      if (entries.length > max) shown.push(`… ${entries.length - max} more`);
      return shown.join('<br>');
    };
    const pending = (p: PartResult): string => {
      const rows = [
        ...Object.entries(p.pending).map(([id, kinds]) => `${id} (${[...new Set(kinds)].join(', ')})`),
        ...p.skipped.map((id) => `${id} (not run)`),
      ];
      return rows.length ? rows.join('<br>') : '-';
    };
    const t = this.totals();
    const rss = this.rssVerdicts();
    const check = (ok: boolean): string => (ok ? 'yes' : '**NO**');
    const lines = [
      `# Reliability suite: ${PROFILE} profile`,
      '',
      `Run ${new Date(this.started).toISOString()}, ${((Date.now() - this.started) / 1000).toFixed(0)} s, ` +
        `commit ${gitCommit()}, node ${process.version}, ${availableParallelism()} cores` +
        `${STRICT ? ', strict (pending cases enforced)' : ''}. ` +
        'How to run and what each part does: docs/reliability.md.',
      '',
      '| part | s | requests | answers | failures by kind | RSS start / peak / end MiB | hung | lost records | crashes | 4xx without code | pending (fix on another branch) |',
      '|---|---|---|---|---|---|---|---|---|---|---|',
      ...this.parts.map(
        (p) =>
          `| ${p.name} | ${p.seconds.toFixed(0)} | ${p.requests} | ${list(p.answers)} | ${list(p.failures)} | ` +
          `${p.rss ? `${fmt(p.rss.start)} / ${fmt(p.rss.peak)} / ${fmt(p.rss.end)}` : '-'} | ${p.hung} | ` +
          `${p.lost ?? '-'} | ${p.crashes} | ${p.noCode} | ${pending(p)} |`,
      ),
      '',
      '## Acceptance',
      '',
      `- 0 crashes: ${check(t.crashes === 0)} (${t.crashes})`,
      `- 0 hung requests: ${check(t.hung === 0)} (${t.hung})`,
      ...rss.map(
        (r) =>
          `- RSS within +${RSS_GROWTH_LIMIT * 100}% after ${r.part}: ${check(r.ok)} ` +
          `(${fmt(r.rss.start)} → ${fmt(r.rss.end)} MiB, ${(((r.rss.end - r.rss.start) / r.rss.start) * 100).toFixed(1)}%)`,
      ),
      `- 0 acknowledged usage records lost: ${check(t.lost === 0)} (${t.lost})`,
      `- every 4xx with a code: ${check(t.noCode === 0)} (${t.noCode} without)`,
      `- no other failure: ${check(t.failed === 0)} (${t.failed} in all)`,
      '',
      ...this.parts.flatMap((p) => p.notes.map((n) => `- ${p.name}: ${n}`)),
      '',
      ...this.sections.flatMap((s) => [`## ${s.title}`, '', s.body, '']),
    ];
    return lines.join('\n');
  }

  /** Writes the table: RELIABILITY_RESULTS, else bench/results/reliability.md (long) or a temp file. */
  write(): string {
    const file =
      process.env.RELIABILITY_RESULTS ??
      (PROFILE === 'long' ? 'bench/results/reliability.md' : join(tmpdir(), 'inferd-reliability-short.md'));
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, this.markdown());
    return file;
  }
}

function gitCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}
