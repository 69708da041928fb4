/**
 * docs/optimization.md's plots: the results-table reader, the bar chart (well-formed SVG, labelled
 * axes, bars where their values put them) and every plot against the committed results file it
 * names (each bar's value is a number of that file).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { barSvg } from '../../bench/plots/bars.js';
import { figureAt, figures, findTable, numbers, readTables } from '../../bench/plots/md-table.js';
import { PLOTS, rowOf } from '../../bench/plots/specs.js';

/** Throws unless `svg` is well-formed XML of the simple kind the charts write. */
function assertWellFormed(svg: string): void {
  const stack: string[] = [];
  const tag = /<(\/?)([a-zA-Z][\w-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/y;
  let i = 0;
  while (i < svg.length) {
    const lt = svg.indexOf('<', i);
    const text = svg.slice(i, lt < 0 ? svg.length : lt);
    assert.doesNotMatch(text, /&(?!amp;|lt;|gt;|quot;|#\d+;)/, `bare & in text "${text}"`);
    assert.doesNotMatch(text, />/, `bare > in text "${text}"`);
    if (lt < 0) break;
    tag.lastIndex = lt;
    const m = tag.exec(svg);
    assert.ok(m, `malformed tag at ${lt}: ${svg.slice(lt, lt + 60)}`);
    const [, closing, name, , selfClosing] = m;
    if (closing) assert.equal(stack.pop(), name, `</${name}> closes the wrong element`);
    else if (!selfClosing) stack.push(name!);
    i = tag.lastIndex;
  }
  assert.deepEqual(stack, [], 'unclosed elements');
}

/** The bars: [x, y, width, height] of every <rect> that carries a <title>. */
const bars = (svg: string): number[][] =>
  [...svg.matchAll(/<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)"[^>]*><title>/g)].map(
    (m) => m.slice(1, 5).map(Number),
  );

describe('results tables', () => {
  const md = [
    '# Run',
    '',
    '| setting | req/s | p50 / p99 ms |',
    '|---|---|---|',
    '| a (default) | 6,614 | **0.62** / 6.6 |',
    '| b | 8,142 (10,117 / 6,880) | - |',
    '',
    '## Later',
    '| setting | req/s |',
    '| --- | --- |',
    '| a | 1 |',
  ].join('\n');

  it('are read with their heading, header and rows', () => {
    const t = readTables(md);
    assert.equal(t.length, 2);
    assert.equal(t[0]!.heading, 'Run');
    assert.deepEqual(t[0]!.header, ['setting', 'req/s', 'p50 / p99 ms']);
    assert.equal(t[0]!.rows[1]!['req/s'], '8,142 (10,117 / 6,880)');
    assert.equal(t[1]!.heading, 'Later');
  });

  it('are found by heading and columns, and a missing one names what was looked for', () => {
    assert.equal(findTable(readTables(md), /Later/, ['req/s']).rows[0]!.setting, 'a');
    assert.equal(findTable(readTables(md), /./, ['p50 / p99 ms']).heading, 'Run');
    assert.throws(
      () => findTable(readTables(md), /Later/, ['p99']),
      /heading matching \/Later\/ with columns p99/,
    );
  });

  it('cells give their numbers with thousands separators, bold and ranges', () => {
    assert.deepEqual(numbers('6,614'), [6614]);
    assert.deepEqual(numbers('**0.62** / 6.6'), [0.62, 6.6]);
    assert.deepEqual(numbers('8,142 (10,117 / 6,880)'), [8142, 10117, 6880]);
    assert.deepEqual(numbers('1,234,567'), [1234567]);
    assert.deepEqual(numbers('0.93–1.06×'), [0.93, 1.06]);
    assert.deepEqual(figureAt('**0.62** / 6.6', 1), { value: 6.6, text: '6.6' });
    assert.deepEqual(figures('36.0 and 10,117'), [
      { value: 36, text: '36.0' },
      { value: 10117, text: '10,117' },
    ]);
    assert.throws(() => figureAt('-'), /no number #1/);
  });

  it('rows are picked by the start of a cell, exactly one', () => {
    const t = findTable(readTables(md), /Run/, ['setting']);
    assert.equal(rowOf(t, 'setting', 'a')['req/s'], '6,614');
    assert.throws(() => rowOf(t, 'setting', 'c'), /0 rows/);
  });
});

describe('bar chart', () => {
  const svg = barSvg({
    title: 'Tiny <chart> & co',
    yLabel: 'req/s',
    xLabel: 'concurrency',
    categories: ['c=1', 'c=64'],
    series: [
      { name: 'normal', values: [10, 20] },
      { name: 'idle', values: [5, undefined] },
    ],
    note: 'from a test',
  });

  it('is one well-formed standalone SVG with the title escaped and no script', () => {
    assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assertWellFormed(svg);
    assert.match(svg, /Tiny &lt;chart&gt; &amp; co/);
    assert.ok(!svg.includes('<script'));
  });

  it('is checked by a checker that rejects what is not well-formed', () => {
    assert.throws(() => assertWellFormed('<svg><g></svg>'));
    assert.throws(() => assertWellFormed('<svg><text>a & b</text></svg>'));
    assert.throws(() => assertWellFormed('<svg><rect x=1/></svg>'));
    assert.throws(() => assertWellFormed('<svg>'));
  });

  it('labels both axes, the categories and the series', () => {
    for (const label of ['req/s', 'concurrency', 'c=1', 'c=64', 'normal', 'idle', 'from a test']) {
      assert.match(svg, new RegExp(`>${label}<`), label);
    }
    assert.match(svg, /rotate\(-90\)" text-anchor="middle">req\/s</);
  });

  it('places bars in proportion to their values, on the axis, in category order', () => {
    const b = bars(svg);
    assert.equal(b.length, 3, 'the missing value has no bar');
    const [ten, five, twenty] = b as [number[], number[], number[]];
    assert.ok(Math.abs(twenty[3]! / ten[3]! - 2) < 0.01, 'height of 20 is twice that of 10');
    assert.ok(Math.abs(ten[3]! / five[3]! - 2) < 0.01);
    for (const r of b) assert.ok(Math.abs(r[1]! + r[3]! - (ten[1]! + ten[3]!)) < 0.11, 'same baseline');
    assert.ok(ten[0]! < five[0]! && five[0]! < twenty[0]!);
    // The tick labelled 20 sits where the bar of 20 ends (tick text is drawn 4 units below its line).
    const tick = /<text x="[\d.]+" y="([\d.]+)" text-anchor="end">20<\/text>/.exec(svg);
    assert.ok(tick);
    assert.ok(Math.abs(Number(tick[1]) - 4 - twenty[1]!) < 0.11);
    assert.match(svg, />n\/a</);
    assert.match(svg, /font-size="11">20</);
  });

  it('refuses a series whose values do not match the categories', () => {
    assert.throws(
      () =>
        barSvg({
          title: 't',
          yLabel: 'y',
          xLabel: 'x',
          categories: ['a'],
          series: [{ name: 's', values: [1, 2] }],
        }),
      /2 values for 1 categories/,
    );
  });
});

describe('the report plots, from the committed results', () => {
  for (const spec of PLOTS) {
    it(`${spec.name} draws only numbers that are in ${spec.source}, written as there`, () => {
      const md = readFileSync(spec.source, 'utf8');
      const chart = spec.build(md);
      const inFile = new Set(figures(md).map((f) => `${f.value} ${f.text}`));
      for (const s of chart.series) {
        s.values.forEach((v, i) => {
          const text = s.texts?.[i];
          if (v !== undefined) assert.ok(inFile.has(`${v} ${text}`), `${s.name}: ${v} written ${text}`);
        });
      }
      const svg = barSvg(chart);
      assertWellFormed(svg);
      for (const s of chart.series)
        for (const t of s.texts ?? []) if (t) assert.ok(svg.includes(`>${t}<`), t);
    });
  }
});
