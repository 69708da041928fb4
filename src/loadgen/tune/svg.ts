/**
 * Throughput against p99 latency as a standalone SVG (no script, no fonts to fetch): every measured
 * candidate as a dot, the Pareto front as a line, the recommendation and the current config marked.
 */
import type { Measured } from './pareto.js';

export interface PlotPoint {
  label: string;
  /** The model's config as it was (drawn as a square). */
  current?: boolean;
}

const W = 720;
const H = 480;
const M = { left: 70, right: 20, top: 40, bottom: 56 };

const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** 1, 2 or 5 times a power of ten, about `n` steps over [0, max]. */
function ticks(max: number, n = 5): number[] {
  if (!(max > 0)) return [0];
  const raw = max / n;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((k) => k * pow).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let v = 0; v <= max * 1.0001; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

export function plotSvg<T extends PlotPoint>(
  title: string,
  all: readonly Measured<T>[],
  front: readonly Measured<T>[],
  chosen: Measured<T> | undefined,
): string {
  const shown = all.filter((m) => m.throughput > 0);
  const xMax = Math.max(1, ...shown.map((m) => m.p99)) * 1.1;
  const yMax = Math.max(1, ...shown.map((m) => m.throughput)) * 1.1;
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const x = (v: number): number => M.left + (v / xMax) * pw;
  const y = (v: number): number => M.top + ph - (v / yMax) * ph;
  const f = (v: number): string => v.toFixed(1);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${esc(title)}</text>`,
  ];
  for (const t of ticks(xMax)) {
    parts.push(`<line x1="${f(x(t))}" y1="${M.top}" x2="${f(x(t))}" y2="${M.top + ph}" stroke="#eee"/>`);
    parts.push(`<text x="${f(x(t))}" y="${M.top + ph + 16}" text-anchor="middle">${t}</text>`);
  }
  for (const t of ticks(yMax)) {
    parts.push(`<line x1="${M.left}" y1="${f(y(t))}" x2="${M.left + pw}" y2="${f(y(t))}" stroke="#eee"/>`);
    parts.push(`<text x="${M.left - 6}" y="${f(y(t) + 4)}" text-anchor="end">${t}</text>`);
  }
  parts.push(
    `<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`,
    `<text x="${M.left + pw / 2}" y="${H - 14}" text-anchor="middle">p99 latency (ms)</text>`,
    `<text transform="translate(18 ${M.top + ph / 2}) rotate(-90)" text-anchor="middle">throughput (req/s)</text>`,
  );
  if (front.length > 1) {
    const path = front.map((m) => `${f(x(m.p99))},${f(y(m.throughput))}`).join(' ');
    parts.push(`<polyline points="${path}" fill="none" stroke="#d62728" stroke-width="1.5"/>`);
  }
  for (const m of shown) {
    const cx = f(x(m.p99));
    const cy = f(y(m.throughput));
    const tip = `<title>${esc(m.point.label)}: ${m.throughput.toFixed(0)} req/s, p99 ${m.p99.toFixed(2)} ms</title>`;
    if (m.point.current) {
      parts.push(
        `<rect x="${f(x(m.p99) - 5)}" y="${f(y(m.throughput) - 5)}" width="10" height="10" fill="#1f77b4">${tip}</rect>`,
      );
      parts.push(`<text x="${f(x(m.p99) + 8)}" y="${f(y(m.throughput) + 4)}" fill="#1f77b4">current</text>`);
    } else {
      const onFront = front.includes(m);
      parts.push(
        `<circle cx="${cx}" cy="${cy}" r="${onFront ? 4.5 : 3}" fill="${onFront ? '#d62728' : '#999'}">${tip}</circle>`,
      );
    }
  }
  if (chosen) {
    parts.push(
      `<circle cx="${f(x(chosen.p99))}" cy="${f(y(chosen.throughput))}" r="9" fill="none" stroke="#2ca02c" stroke-width="2.5"/>`,
      `<text x="${f(x(chosen.p99) + 12)}" y="${f(y(chosen.throughput) - 10)}" fill="#2ca02c">recommended: ${esc(chosen.point.label)}</text>`,
    );
  }
  parts.push(
    `<text x="${M.left + 8}" y="${M.top + 16}" fill="#555">${shown.length} settings measured; red: Pareto front; square: current config</text>`,
    '</svg>',
  );
  return parts.join('\n') + '\n';
}
