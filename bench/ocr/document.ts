/**
 * The benchmark document: a 1280×960 page of ~24 lines of English in mixed fonts and sizes
 * (headings, body text, a two-column block), rendered from SVG with sharp, encoded as PNG.
 */
import sharp from 'sharp';
import { svgPage, type TextLine } from '../../test/ocr/helpers/render.js';

const BODY = [
  'Quarterly report for the operations team, third quarter',
  'Revenue grew by 12.4% to 3,184,200 EUR compared with last year,',
  'driven by the new subscription plans and lower churn in Europe.',
  'Support tickets fell from 1,942 to 1,377 after the self-service',
  'portal launched on 3 July; median first response is now 2h 10m.',
  'Infrastructure costs rose 4% because of the new inference cluster,',
  'which serves 38 models to about 2,400 requests per second at peak.',
  'Hiring: two engineers joined the platform group in August, and one',
  'designer joined the product team. Two positions remain open.',
  'Risks: supplier delays for GPUs, and the migration of the billing',
  'database, planned for the second week of November.',
];

export const WIDTH = 1280;
export const HEIGHT = 960;

export function documentLines(): TextLine[] {
  const lines: TextLine[] = [
    {
      text: 'ACME Corporation - Internal Memo',
      font: 'Liberation Sans',
      size: 40,
      x: 60,
      y: 90,
      weight: 'bold',
    },
    { text: 'Date: 28 November 2026    Ref: OPS-2026-Q3-017', font: 'DejaVu Sans', size: 22, x: 60, y: 140 },
  ];
  BODY.forEach((text, i) => lines.push({ text, font: 'Liberation Serif', size: 26, x: 60, y: 200 + i * 40 }));
  const left = ['Region', 'Europe', 'Americas', 'Asia Pacific', 'Total'];
  const right = ['Revenue (EUR)', '1,402,000', '1,021,500', '760,700', '3,184,200'];
  left.forEach((text, i) => lines.push({ text, font: 'DejaVu Sans Mono', size: 22, x: 60, y: 680 + i * 36 }));
  right.forEach((text, i) =>
    lines.push({ text, font: 'DejaVu Sans Mono', size: 22, x: 520, y: 680 + i * 36 }),
  );
  lines.push({ text: 'Page 1 of 3', font: 'DejaVu Serif', size: 18, x: 1100, y: 930 });
  return lines;
}

export async function renderDocument(): Promise<Buffer> {
  return sharp(svgPage(WIDTH, HEIGHT, documentLines()))
    .flatten({ background: '#fff' })
    .png()
    .toBuffer();
}

/** The document's text, rows joined by "\n" and same-row cells by " ", as the pipeline reports it. */
export function documentText(): string {
  const rows = new Map<number, TextLine[]>();
  for (const l of documentLines()) rows.set(l.y, [...(rows.get(l.y) ?? []), l]);
  return [...rows.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([, r]) => r.map((l) => l.text).join(' '))
    .join('\n');
}
