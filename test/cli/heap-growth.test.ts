/**
 * The V8 heap growth factor inferd serve fixes (src/cli/process/heap-growth.ts). V8 prints the factor it
 * applied after a full GC under --trace-gc-verbose ("[HeapController] Limit: … (2.0)"); each case
 * runs in a child process, since the flag is process-wide.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { fixHeapGrowth } from '../../src/cli/process/heap-growth.js';

const MODULE = fileURLToPath(new URL('../../src/cli/process/heap-growth.js', import.meta.url));

/** The factor V8 printed after one full GC in a child that called fixHeapGrowth(percent). */
function factorAfterGc(percent: number, nodeFlags: string[] = []): string {
  const script =
    `const { fixHeapGrowth } = await import(${JSON.stringify(MODULE)});` +
    `fixHeapGrowth(${percent}); globalThis.gc();`;
  const out = execFileSync(
    process.execPath,
    ['--trace-gc-verbose', '--expose-gc', ...nodeFlags, '--input-type=module', '-e', script],
    { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' },
  );
  const factor = /\[HeapController\] Limit: .*\(([\d.]+)\)/.exec(out)?.[1];
  assert.ok(factor, `no heap limit line in the child's GC trace:\n${out.slice(0, 2000)}`);
  return factor;
}

describe('fixHeapGrowth', () => {
  it('sets the factor V8 applies after a full GC', () => {
    assert.equal(factorAfterGc(50), '1.5');
    assert.equal(factorAfterGc(100), '2.0');
  });

  it('0 keeps V8 sizing (its own factor, 4.0 on a fresh heap)', () => {
    assert.equal(factorAfterGc(0), '4.0');
  });

  it('a --heap-growing-percent given to node wins', () => {
    assert.equal(factorAfterGc(100, ['--heap-growing-percent=50']), '1.5');
  });

  it('reports the percent in force', () => {
    assert.equal(fixHeapGrowth(0, ['--heap-growing-percent=30']), 30);
    assert.equal(fixHeapGrowth(0, []), undefined);
  });
});
