/**
 * The per-request metric families (observability/fast-family.ts) render exactly as prom-client's
 * Counter and Histogram fed the same values: same lines, buckets, sum and count, label escaping.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import client from 'prom-client';
import { CounterFamily, HistogramFamily } from '../../src/observability/fast-family.js';

test('cells render as prom-client counters and histograms with the same observations', async () => {
  const ref = new client.Registry();
  const ours = new client.Registry();
  const buckets = [0.001, 0.01, 0.1];
  const labelNames = ['model', 'version'] as const;
  const h1 = new client.Histogram({ name: 'x_seconds', help: 'h', labelNames, buckets, registers: [ref] });
  const c1 = new client.Counter({ name: 'y_total', help: 'c', labelNames, registers: [ref] });
  const h2 = new HistogramFamily({ name: 'x_seconds', help: 'h', labelNames, buckets, registers: [ours] });
  const c2 = new CounterFamily({ name: 'y_total', help: 'c', labelNames, registers: [ours] });
  const sets = [
    { model: 'spam', version: '1' },
    { model: 'odd "name"\\\n', version: '2' },
  ];
  for (const l of sets) {
    const hc = h2.cell(l);
    const cc = c2.cell(l);
    // Bounds are inclusive (le); NaN is ignored by both.
    for (const v of [0.0005, 0.001, 0.005, 0.05, 0.5, 2, l.version === '2' ? 7 : 0]) {
      h1.observe(l, v);
      hc.observe(v);
      c1.inc(l, 2);
      cc.value += 2;
    }
  }
  assert.equal(h2.cell(sets[0]!), h2.cell({ ...sets[0]! }), 'one cell per label set');
  assert.equal(await ours.metrics(), await ref.metrics());
  assert.deepEqual(
    (await ours.getMetricsAsJSON()).map((m) => m.values.length),
    (await ref.getMetricsAsJSON()).map((m) => m.values.length),
  );
});
