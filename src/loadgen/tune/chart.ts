/**
 * The parts every inferd SVG chart shares: a standalone document (no script, no fonts to fetch, a
 * white background so it reads in dark viewers too), a title, a plot box with labelled axes, grid
 * lines at round ticks, and a legend. `inferd tune`'s throughput/p99 plot (svg.ts) and the
 * optimisation report's bar charts (bench/plots/) draw on it. Coordinates are SVG user units
 * (pixels at 100%), rounded to 0.1.
 */

export const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A coordinate as written into the SVG. */
export const px = (v: number): string => v.toFixed(1);

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

export interface FrameOptions {
  title: string;
  width: number;
  height: number;
  /** Space around the plot box for tick labels and axis titles. */
  margin: { left: number; right: number; top: number; bottom: number };
  xLabel: string;
  yLabel: string;
  /** Upper end of the y axis (the axis starts at 0). */
  yMax: number;
  /** Upper end of a linear x axis (starting at 0); leave out for categories (the caller labels them). */
  xMax?: number;
}

export interface Frame {
  /** The SVG so far: header, title, grid, ticks, box and axis titles. Push marks, then `close`. */
  parts: string[];
  /** Plot box in SVG units. */
  box: { left: number; top: number; width: number; height: number };
  /** Value → SVG x (linear axis only; categories: the caller places them in `box`). */
  x: (v: number) => number;
  y: (v: number) => number;
}

export function frame(o: FrameOptions): Frame {
  const { width: W, height: H, margin: M } = o;
  const box = { left: M.left, top: M.top, width: W - M.left - M.right, height: H - M.top - M.bottom };
  const xMax = o.xMax ?? 1;
  const x = (v: number): number => box.left + (v / xMax) * box.width;
  const y = (v: number): number => box.top + box.height - (v / o.yMax) * box.height;
  const bottom = box.top + box.height;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${esc(o.title)}</text>`,
  ];
  if (o.xMax !== undefined) {
    for (const t of ticks(o.xMax)) {
      parts.push(`<line x1="${px(x(t))}" y1="${box.top}" x2="${px(x(t))}" y2="${bottom}" stroke="#eee"/>`);
      parts.push(`<text x="${px(x(t))}" y="${bottom + 16}" text-anchor="middle">${t}</text>`);
    }
  }
  for (const t of ticks(o.yMax)) {
    parts.push(
      `<line x1="${box.left}" y1="${px(y(t))}" x2="${box.left + box.width}" y2="${px(y(t))}" stroke="#eee"/>`,
    );
    parts.push(`<text x="${box.left - 6}" y="${px(y(t) + 4)}" text-anchor="end">${t}</text>`);
  }
  parts.push(
    `<rect x="${box.left}" y="${box.top}" width="${box.width}" height="${box.height}" fill="none" stroke="#333"/>`,
    `<text x="${box.left + box.width / 2}" y="${H - 14}" text-anchor="middle">${esc(o.xLabel)}</text>`,
    `<text transform="translate(18 ${box.top + box.height / 2}) rotate(-90)" text-anchor="middle">${esc(o.yLabel)}</text>`,
  );
  return { parts, box, x, y };
}

/** A row of colour swatches with names, drawn from (`left`, `top`) rightwards. */
export function legend(
  items: ReadonlyArray<{ name: string; color: string }>,
  left: number,
  top: number,
): string[] {
  const out: string[] = [];
  let at = left;
  for (const it of items) {
    out.push(`<rect x="${px(at)}" y="${px(top - 9)}" width="10" height="10" fill="${it.color}"/>`);
    out.push(`<text x="${px(at + 14)}" y="${px(top)}">${esc(it.name)}</text>`);
    // About 6.5 units per character at font-size 12, plus the swatch and a gap.
    at += 14 + it.name.length * 6.5 + 18;
  }
  return out;
}

export const close = (parts: string[]): string => [...parts, '</svg>'].join('\n') + '\n';
