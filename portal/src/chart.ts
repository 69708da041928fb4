/** Bar charts as SVG built here (no chart library): one series per model, stacked per day. */
import { h, s } from './dom.js';

export interface Series {
  name: string;
  /** value per x label */
  values: Map<string, number>;
}

const W = 640;
const H = 220;
const PAD = { l: 56, r: 8, t: 8, b: 36 };

export function stackedBars(title: string, xs: string[], series: Series[]): HTMLElement {
  const totals = xs.map((x) => series.reduce((n, se) => n + (se.values.get(x) ?? 0), 0));
  const max = Math.max(1, ...totals);
  const innerW = W - PAD.l - PAD.r;
  const innerH = H - PAD.t - PAD.b;
  const bw = xs.length ? innerW / xs.length : innerW;
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-label': title });
  for (const f of [0, 0.5, 1]) {
    const y = PAD.t + innerH * (1 - f);
    svg.appendChild(s('line', { x1: PAD.l, x2: W - PAD.r, y1: y, y2: y, class: 'grid' }));
    svg.appendChild(
      s('text', { x: PAD.l - 6, y: y + 4, 'text-anchor': 'end', class: 'tick' }, compact(max * f)),
    );
  }
  xs.forEach((x, i) => {
    let base = 0;
    series.forEach((se, k) => {
      const v = se.values.get(x) ?? 0;
      if (v <= 0) return;
      const hgt = (v / max) * innerH;
      const rect = s('rect', {
        x: PAD.l + i * bw + bw * 0.15,
        y: PAD.t + innerH - base - hgt,
        width: Math.max(1, bw * 0.7),
        height: hgt,
        class: `series s${k % 6}`,
      });
      rect.appendChild(s('title', {}, `${x} ${se.name}: ${v}`));
      svg.appendChild(rect);
      base += hgt;
    });
    if (xs.length <= 16 || i % Math.ceil(xs.length / 8) === 0) {
      svg.appendChild(
        s(
          'text',
          { x: PAD.l + i * bw + bw / 2, y: H - PAD.b + 16, 'text-anchor': 'middle', class: 'tick' },
          x.slice(5),
        ),
      );
    }
  });
  const legend = h(
    'ul',
    { class: 'legend' },
    series.map((se, k) =>
      h('li', {}, h('span', { class: `swatch s${k % 6}`, 'aria-hidden': 'true' }), se.name),
    ),
  );
  return h('figure', { class: 'chart-box' }, h('figcaption', {}, title), svg, legend);
}

function compact(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)}G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return String(Math.round(n * 10) / 10);
}

/** Every UTC day from `from` to `to` inclusive, as YYYY-MM-DD. */
export function days(from: string, to: string): string[] {
  const out: string[] = [];
  for (
    let t = Date.parse(`${from}T00:00:00Z`);
    t <= Date.parse(`${to}T00:00:00Z`) && out.length < 400;
    t += 86_400_000
  ) {
    out.push(new Date(t).toISOString().slice(0, 10));
  }
  return out;
}
