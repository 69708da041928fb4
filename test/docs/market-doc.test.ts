/**
 * docs/market.md's cost table is what `npm run cost` computes from the committed benchmark results and
 * bench/prices.json, and the shipped default plans are the ones derived from the same numbers. This
 * fails when the page, a benchmark result, a price or src/gateway/plans.ts moved alone.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { BEGIN, END, planUnits, readBenchmarks, renderCostSection, withSection } from '../../scripts/cost.js';
import { DEFAULT_PLANS } from '../../src/gateway/plans.js';

const page = (): string => readFileSync('docs/market.md', 'utf8');

it('docs/market.md carries the cost section npm run cost renders (regenerate: npm run cost -- --write)', () => {
  const text = page();
  const section = text.slice(text.indexOf(BEGIN), text.indexOf(END) + END.length);
  assert.equal(section, renderCostSection());
  assert.equal(withSection(text, renderCostSection()), text);
});

it('the default plan weights and quotas are the ones derived from the benchmarks', () => {
  const units = planUnits(readBenchmarks());
  assert.deepEqual(DEFAULT_PLANS.modelWeights, units.modelWeights);
  assert.equal(DEFAULT_PLANS.plans.free?.monthlyQuotaUnits, units.free);
  assert.equal(DEFAULT_PLANS.plans.pro?.monthlyQuotaUnits, units.pro);
});

it('an OCR page is weighted far above a spam call, as measured (not a placeholder ratio)', () => {
  const m = readBenchmarks();
  assert.ok(m.ocrVcpuSeconds > 100 * m.spamVcpuSeconds, `${m.ocrVcpuSeconds} vs ${m.spamVcpuSeconds}`);
  assert.ok(DEFAULT_PLANS.modelWeights.ocr! > 100 * DEFAULT_PLANS.modelWeights.spam!);
});

it('a benchmark file that lost its row fails loudly instead of pricing from nothing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'inferd-cost-'));
  try {
    cpSync('bench/results', dir, { recursive: true });
    const gateway = join(dir, 'gateway.md');
    const text = readFileSync(gateway, 'utf8');
    writeFileSync(gateway, text.replace(/^\| gateway on.*$/m, ''));
    assert.throws(() => readBenchmarks(dir), /"gateway on" row/);
    writeFileSync(gateway, text.replace(/^(\| gateway on[^|]*\| )[^|]+/m, '$1n/a '));
    assert.throws(() => readBenchmarks(dir), /not a positive number/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

it('the README links the analysis', () => {
  assert.match(readFileSync('README.md', 'utf8'), /\(docs\/market\.md\)/);
});
