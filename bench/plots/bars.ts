/**
 * Grouped bar charts for docs/optimization.md, on the same frame, ticks and escaping as
 * `inferd tune`'s plot (src/loadgen/tune/chart.ts): one group per category (a concurrency, a
 * workload, a model), one bar per series (a setting), each bar labelled with its value so the
 * chart reads without hovering. One unit per chart: mixing req/s and ms on one axis misleads.
 */
import { close, esc, frame, legend, px } from '../../src/loadgen/tune/chart.js';

export interface BarSeries {
  name: string;
  /** One per category; undefined = not measured (no bar, "n/a" written instead). */
  values: ReadonlyArray<number | undefined>;
  /** How each value is written on its bar (as its results file wrote it: `36.0`, `6,614`); default: the value. */
  texts?: ReadonlyArray<string | undefined>;
}

export interface BarChart {
  title: string;
  /** The value axis, with its unit: "req/s", "p99 (ms)". */
  yLabel: string;
  /** What the groups are: "concurrency", "workload". */
  xLabel: string;
  categories: readonly string[];
  series: readonly BarSeries[];
  /** One line under the title: where the numbers come from. */
  note?: string;
}

const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b'];
const W = 720;
const H = 440;
const M = { left: 70, right: 20, top: 66, bottom: 64 };

/** Shortest exact rendering of a measured value (as the results file wrote it, e.g. 6614 or 0.62). */
const show = (v: number): string => String(Number(v.toPrecision(6)));

export function barSvg(c: BarChart): string {
  if (c.series.length === 0 || c.categories.length === 0) throw new Error(`${c.title}: nothing to plot`);
  for (const s of c.series) {
    if (s.values.length !== c.categories.length) {
      throw new Error(
        `${c.title}: series "${s.name}" has ${s.values.length} values for ${c.categories.length} categories`,
      );
    }
  }
  const all = c.series.flatMap((s) => s.values.filter((v): v is number => v !== undefined));
  const yMax = Math.max(...all, 1e-9) * 1.15;
  const { parts, box, y } = frame({
    title: c.title,
    width: W,
    height: H,
    margin: M,
    xLabel: c.xLabel,
    yLabel: c.yLabel,
    yMax,
  });
  if (c.note) parts.push(`<text x="${W / 2}" y="40" text-anchor="middle" fill="#555">${esc(c.note)}</text>`);
  const group = box.width / c.categories.length;
  // Bars fill 80% of their group; the rest separates groups.
  const bar = (group * 0.8) / c.series.length;
  const bottom = box.top + box.height;
  c.categories.forEach((cat, i) => {
    const g0 = box.left + i * group + group * 0.1;
    parts.push(
      `<text x="${px(box.left + (i + 0.5) * group)}" y="${bottom + 18}" text-anchor="middle">${esc(cat)}</text>`,
    );
    c.series.forEach((s, k) => {
      const v = s.values[i];
      const bx = g0 + k * bar;
      const mid = px(bx + bar / 2);
      if (v === undefined) {
        parts.push(`<text x="${mid}" y="${px(bottom - 4)}" text-anchor="middle" fill="#999">n/a</text>`);
        return;
      }
      const top = y(v);
      const text = s.texts?.[i] ?? show(v);
      parts.push(
        `<rect x="${px(bx + 1)}" y="${px(top)}" width="${px(bar - 2)}" height="${px(bottom - top)}" fill="${COLORS[k % COLORS.length]}">` +
          `<title>${esc(`${s.name}, ${cat}: ${text}`)}</title></rect>`,
      );
      parts.push(
        `<text x="${mid}" y="${px(top - 4)}" text-anchor="middle" font-size="11">${esc(text)}</text>`,
      );
    });
  });
  parts.push(
    ...legend(
      c.series.map((s, k) => ({ name: s.name, color: COLORS[k % COLORS.length]! })),
      box.left + 8,
      box.top - 8,
    ),
  );
  return close(parts);
}
