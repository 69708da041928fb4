/**
 * The plots of docs/optimization.md: each names the committed results file its numbers come from,
 * the table in it (by heading and columns, md-table.ts) and how rows become bars. Written to
 * docs/images/optimization-<name>.svg by bench/plots.ts. A plot only ever shows numbers that are in
 * its results file; change the file and rerun `npm run bench:plots`.
 */
import type { BarChart, BarSeries } from './bars.js';
import { figureAt, findTable, readTables, type Figure, type MdTable } from './md-table.js';

export interface PlotSpec {
  /** docs/images/optimization-<name>.svg */
  name: string;
  /** Results file, relative to the repository root. */
  source: string;
  build: (markdown: string) => BarChart;
}

/** The row whose `column` cell starts with `key` (exactly one; throws otherwise). */
export function rowOf(t: MdTable, column: string, key: string): Record<string, string> {
  const hits = t.rows.filter((r) => (r[column] ?? '').replace(/\*\*/g, '').startsWith(key));
  if (hits.length !== 1) {
    throw new Error(`table "${t.heading}": ${hits.length} rows whose ${column} starts with "${key}"`);
  }
  return hits[0]!;
}

/** A series from figures as the results file wrote them. */
const bar = (name: string, figs: readonly Figure[]): BarSeries => ({
  name,
  values: figs.map((f) => f.value),
  texts: figs.map((f) => f.text),
});

const table = (md: string, source: string, heading: RegExp, columns: string[]): MdTable =>
  findTable(readTables(md), heading, columns, source);

const FAST = 'bench/results/fast-defaults.md';
const WARM = 'bench/results/warmup-and-cache.md';
const OCR = 'bench/results/ocr-speed.md';
const SCHED = 'bench/results/scheduler.md';

/** Servers of the scheduler comparison's spam table, as the plots name them. */
const SCHED_SERVERS = ['naive', 'inferd (no batching)', 'inferd (dynamic batching)', 'HTTP ceiling'];

export const PLOTS: readonly PlotSpec[] = [
  {
    name: 'no-config',
    source: FAST,
    build: (md) => {
      const t = table(md, FAST, /^affine$/, ['client', 'conc', 'server', 'req/s (median)']);
      const servers = ['FastAPI + PyTorch', 'inferd (no config)', 'inferd before', 'HTTP ceiling'];
      return {
        title: 'A model with no config (y = 2x + b), concurrency 64',
        note: `${FAST}, first affine table (medians of 3 alternating runs)`,
        yLabel: 'req/s',
        xLabel: 'server',
        categories: ['FastAPI + PyTorch', 'inferd, no config', 'inferd before #19', 'HTTP ceiling'],
        series: ['wrk', 'autocannon'].map((client) => {
          const rows = { ...t, rows: t.rows.filter((r) => r.client === client) };
          return bar(
            client,
            servers.map((s) => figureAt(rowOf(rows, 'server', s)['req/s (median)']!)),
          );
        }),
      };
    },
  },
  {
    name: 'window',
    source: FAST,
    build: (md) => {
      const t = table(md, FAST, /adaptive window against the fixed/, [
        'window',
        'c=64 p50 / p99 ms',
        'c=1 p50 / p99 ms',
      ]);
      const cols: Array<[string, string, number]> = [
        ['c=1 p50', 'c=1 p50 / p99 ms', 0],
        ['c=1 p99', 'c=1 p50 / p99 ms', 1],
        ['c=64 p50', 'c=64 p50 / p99 ms', 0],
        ['c=64 p99', 'c=64 p50 / p99 ms', 1],
      ];
      return {
        title: 'Spam: adaptive batch window against a fixed 500 µs wait',
        note: `${FAST}, A/B of the window (wrk, medians of 3 alternating runs)`,
        yLabel: 'latency (ms)',
        xLabel: 'concurrency and percentile',
        categories: cols.map(([c]) => c),
        series: [
          ['adaptive, bound 500 µs', 'adaptive'],
          ['fixed 500 µs', 'fixed'],
        ].map(([name, key]) => {
          const r = rowOf(t, 'window', key!);
          return bar(
            name!,
            cols.map(([, col, i]) => figureAt(r[col]!, i)),
          );
        }),
      };
    },
  },
  {
    name: 'priority',
    source: FAST,
    build: (md) => {
      const t = table(md, FAST, /thread priority/, ['priority', 'c=64 req/s', 'c=1 req/s']);
      return {
        title: 'Spam: inference thread priority',
        note: `${FAST}, A/B of thread priority (wrk, medians of 3 alternating runs)`,
        yLabel: 'req/s',
        xLabel: 'concurrency',
        categories: ['c=64', 'c=1'],
        series: [
          ['normal (default)', 'normal'],
          ['idle (SCHED_IDLE, the old default)', 'idle'],
        ].map(([name, key]) => {
          const r = rowOf(t, 'priority', key!);
          return bar(name!, [figureAt(r['c=64 req/s']!), figureAt(r['c=1 req/s']!)]);
        }),
      };
    },
  },
  {
    name: 'warmup',
    source: WARM,
    build: (md) => {
      const cols: Array<[string, string]> = [
        ['first request', 'first request, median ms'],
        ['in the service', 'of which in the service (queue + compute)'],
        ['model compute', 'of which model compute'],
        ['next 20 requests', 'next 20 requests, median ms'],
      ];
      const t = table(md, WARM, /^Warm-up/, ['synthetic warm-up', ...cols.map(([, c]) => c)]);
      return {
        title: 'Spam: the first request to a fresh server, synthetic warm-up off and on',
        note: `${WARM} (medians over 25 fresh processes each)`,
        yLabel: 'latency (ms)',
        xLabel: 'request',
        categories: cols.map(([c]) => c),
        series: ['off', 'on'].map((key) => {
          const r = rowOf(t, 'synthetic warm-up', key);
          return bar(
            `warm-up ${key}`,
            cols.map(([, col]) => figureAt(r[col]!)),
          );
        }),
      };
    },
  },
  {
    name: 'cache',
    source: WARM,
    build: (md) => {
      const t = table(md, WARM, /^Response cache/, ['workload', 'plain, median ms', 'cached, median ms']);
      const rows = [
        rowOf(t, 'workload', 'spam, the same message'),
        rowOf(t, 'workload', 'spam, 20 messages'),
      ];
      return {
        title: 'Spam: response cache off and on, on repeated requests',
        note: `${WARM} (medians of 200 requests; the OCR page is in the table: 5479 vs 11.8 ms)`,
        yLabel: 'latency (ms)',
        xLabel: 'workload',
        categories: ['the same message', '20 messages in turn'],
        series: [
          bar(
            'plain',
            rows.map((r) => figureAt(r['plain, median ms']!)),
          ),
          bar(
            'response_cache on',
            rows.map((r) => figureAt(r['cached, median ms']!)),
          ),
        ],
      };
    },
  },
  {
    name: 'ocr-cpu',
    source: OCR,
    build: (md) => {
      const t = table(md, OCR, /^Pipeline, in-process and served/, [
        'concurrency',
        'before',
        'after',
        'served',
      ]);
      const rows = ['1', '4'].map((c) => rowOf(t, 'concurrency', c));
      return {
        title: 'OCR: CPU time per 1280×960 page',
        note: `${OCR}, node dist/bench/ocr/speed.js 4 4 (median over rounds)`,
        yLabel: 'CPU ms per page',
        xLabel: 'concurrency',
        categories: ['c=1', 'c=4'],
        series: [
          ['before (shipped models, classifier on every line)', 'before'],
          ['after, in-process', 'after'],
          ['after, served', 'served'],
        ].map(([name, col]) =>
          bar(
            name!,
            rows.map((r) => figureAt(r[col!]!)),
          ),
        ),
      };
    },
  },
  ...(['CPU ms', 'size MB'] as const).map((col): PlotSpec => ({
    name: col === 'CPU ms' ? 'int8-cpu' : 'int8-size',
    source: OCR,
    build: (md) => {
      const t = table(md, OCR, /^Per model/, ['model', 'variant', col]);
      const models = ['ocr-det', 'ocr-rec'];
      return {
        title: col === 'CPU ms' ? 'OCR models: CPU ms per pass over the page' : 'OCR models: file size',
        note: `${OCR}, node dist/bench/ocr/int8.js 5`,
        yLabel: col === 'CPU ms' ? 'CPU ms' : 'MB',
        xLabel: 'model',
        categories: models,
        series: [
          ['shipped', 'shipped'],
          ['float, rewritten (used)', 'float, rewritten'],
          ['int8 dynamic', 'int8'],
        ].map(([name, key]) =>
          bar(
            name!,
            models.map((m) =>
              figureAt(rowOf({ ...t, rows: t.rows.filter((r) => r.model === m) }, 'variant', key!)[col]!),
            ),
          ),
        ),
      };
    },
  })),
  ...(['req/s (median)', 'peak RSS MiB'] as const).map((col): PlotSpec => ({
    name: col === 'peak RSS MiB' ? 'batching-rss' : 'batching',
    source: SCHED,
    build: (md) => {
      const t = table(md, SCHED, /^spam/, ['server', 'concurrency', col]);
      return {
        title: `Spam, concurrency 64: ${col === 'peak RSS MiB' ? 'peak RSS' : 'throughput'} with and without batching`,
        note: `${SCHED} (autocannon, medians of 3 interleaved runs)`,
        yLabel: col === 'peak RSS MiB' ? 'peak RSS (MiB)' : 'req/s',
        xLabel: 'server',
        categories: SCHED_SERVERS,
        series: [
          bar(
            col,
            SCHED_SERVERS.map((s) => figureAt(rowOf(t, 'server', s)[col]!)),
          ),
        ],
      };
    },
  })),
];
