/**
 * Throughput against p99 latency as a standalone SVG (no script, no fonts to fetch): every measured
 * candidate as a dot, the Pareto front as a line, the recommendation and the current config marked.
 */
import { close, esc, frame, px } from './chart.js';
import type { Measured } from './pareto.js';

export interface PlotPoint {
  label: string;
  /** The model's config as it was (drawn as a square). */
  current?: boolean;
}

const W = 720;
const H = 480;
const M = { left: 70, right: 20, top: 40, bottom: 56 };

export function plotSvg<T extends PlotPoint>(
  title: string,
  all: readonly Measured<T>[],
  front: readonly Measured<T>[],
  chosen: Measured<T> | undefined,
): string {
  const shown = all.filter((m) => m.throughput > 0);
  const xMax = Math.max(1, ...shown.map((m) => m.p99)) * 1.1;
  const yMax = Math.max(1, ...shown.map((m) => m.throughput)) * 1.1;
  const { parts, box, x, y } = frame({
    title,
    width: W,
    height: H,
    margin: M,
    xLabel: 'p99 latency (ms)',
    yLabel: 'throughput (req/s)',
    xMax,
    yMax,
  });
  if (front.length > 1) {
    const path = front.map((m) => `${px(x(m.p99))},${px(y(m.throughput))}`).join(' ');
    parts.push(`<polyline points="${path}" fill="none" stroke="#d62728" stroke-width="1.5"/>`);
  }
  for (const m of shown) {
    const cx = px(x(m.p99));
    const cy = px(y(m.throughput));
    const tip = `<title>${esc(m.point.label)}: ${m.throughput.toFixed(0)} req/s, p99 ${m.p99.toFixed(2)} ms</title>`;
    if (m.point.current) {
      parts.push(
        `<rect x="${px(x(m.p99) - 5)}" y="${px(y(m.throughput) - 5)}" width="10" height="10" fill="#1f77b4">${tip}</rect>`,
      );
      parts.push(
        `<text x="${px(x(m.p99) + 8)}" y="${px(y(m.throughput) + 4)}" fill="#1f77b4">current</text>`,
      );
    } else {
      const onFront = front.includes(m);
      parts.push(
        `<circle cx="${cx}" cy="${cy}" r="${onFront ? 4.5 : 3}" fill="${onFront ? '#d62728' : '#999'}">${tip}</circle>`,
      );
    }
  }
  if (chosen) {
    parts.push(
      `<circle cx="${px(x(chosen.p99))}" cy="${px(y(chosen.throughput))}" r="9" fill="none" stroke="#2ca02c" stroke-width="2.5"/>`,
      `<text x="${px(x(chosen.p99) + 12)}" y="${px(y(chosen.throughput) - 10)}" fill="#2ca02c">recommended: ${esc(chosen.point.label)}</text>`,
    );
  }
  parts.push(
    `<text x="${box.left + 8}" y="${box.top + 16}" fill="#555">${shown.length} settings measured; red: Pareto front; square: current config</text>`,
  );
  return close(parts);
}
