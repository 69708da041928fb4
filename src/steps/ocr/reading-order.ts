/**
 * Reading order and result assembly: lines top to bottom, and left to right within a row, where a
 * row is every line whose vertical centre lies within `yTolerance` × (median line height) of the
 * row's first line, in the frame of the page as it reads (see pageQuarterTurns). The full text
 * joins a row's lines with a space and rows with "\n".
 */
import { distance, type Point, type Quad } from './geometry.js';

export interface OcrLine {
  text: string;
  confidence: number;
  /** Corners in original-image pixels, starting at the text's top-left, clockwise as the text reads. */
  box: Quad;
}

export interface OcrResult {
  text: string;
  lines: OcrLine[];
}

const centreY = (q: Quad): number => (q[0][1] + q[1][1] + q[2][1] + q[3][1]) / 4;
const centreX = (q: Quad): number => (q[0][0] + q[1][0] + q[2][0] + q[3][0]) / 4;
const lineHeight = (q: Quad): number => (distance(q[0], q[3]) + distance(q[1], q[2])) / 2;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : s[s.length >> 1];
}

/** Groups lines into rows, rows top-down and lines left-right inside each. */
export function orderLines<T extends { box: Quad }>(lines: readonly T[], yTolerance = 0.5): T[][] {
  const tol = yTolerance * median(lines.map((l) => lineHeight(l.box)));
  const byY = [...lines].sort((a, b) => centreY(a.box) - centreY(b.box) || centreX(a.box) - centreX(b.box));
  const rows: { y: number; lines: T[] }[] = [];
  for (const line of byY) {
    const y = centreY(line.box);
    const row = rows.length > 0 ? rows[rows.length - 1] : undefined;
    if (row && Math.abs(y - row.y) <= tol) row.lines.push(line);
    else rows.push({ y, lines: [line] });
  }
  return rows.map((r) => r.lines.sort((a, b) => centreX(a.box) - centreX(b.box)));
}

/**
 * The page's quarter-turn: lines' reading directions (corner 0 → corner 1 of each oriented box)
 * vote for right (0), down (1), left (2) or up (3), weighted by line length.
 */
export function pageQuarterTurns(boxes: readonly Quad[]): number {
  const votes = [0, 0, 0, 0];
  for (const q of boxes) {
    const dx = q[1][0] - q[0][0];
    const dy = q[1][1] - q[0][1];
    const k = (((Math.round(Math.atan2(dy, dx) / (Math.PI / 2)) % 4) + 4) % 4) as 0 | 1 | 2 | 3;
    votes[k] += Math.hypot(dx, dy);
  }
  return votes.indexOf(Math.max(...votes));
}

/** Rotates a quad by −k quarter turns (y down), so a page read in direction k reads left to right. */
function toPageFrame(q: Quad, k: number): Quad {
  const rot = ([x, y]: Point): Point => (k === 1 ? [y, -x] : k === 2 ? [-x, -y] : k === 3 ? [-y, x] : [x, y]);
  return q.map(rot) as Quad;
}

/**
 * Drops lines below `dropScore` or empty, orders the rest as the page reads and builds the result.
 * Boxes are oriented (corner 0 is the text's own top-left, then clockwise in the text's frame), so
 * a page turned by 90°, 180° or 270° is ordered as it would be read upright; boxes stay in image
 * coordinates.
 */
export function assembleResult(lines: readonly OcrLine[], dropScore: number, yTolerance: number): OcrResult {
  const kept = lines.filter((l) => l.text.trim() !== '' && l.confidence >= dropScore);
  const k = pageQuarterTurns(kept.map((l) => l.box));
  const rows = orderLines(
    kept.map((line) => ({ line, box: toPageFrame(line.box, k) })),
    yTolerance,
  ).map((r) => r.map((x) => x.line));
  return {
    text: rows.map((r) => r.map((l) => l.text).join(' ')).join('\n'),
    lines: rows.flat(),
  };
}
