/**
 * Deterministic seeded stratified split into train / validation / test. Stratified on the corpus
 * stratum (easy ham, hard ham, spam) so each split has the same mix, including the hard ham.
 * The test split is only ever used for the final report and the evaluation gate.
 */
import { Prng } from '../stats/prng.js';

interface SplitFractions {
  validation: number;
  test: number;
}

const DEFAULT_FRACTIONS: SplitFractions = { validation: 0.15, test: 0.2 };

export interface Split {
  train: number[];
  validation: number[];
  test: number[];
}

/**
 * Splits item indices `0..strata.length-1`. Within each stratum (visited in sorted-name order) the
 * indices are shuffled by a PRNG seeded from `seed`, then cut by the fractions. Each output list
 * is sorted ascending so later stages iterate in corpus order.
 */
export function stratifiedSplit(strata: readonly string[], seed: number, f = DEFAULT_FRACTIONS): Split {
  const rng = new Prng(seed);
  const groups = new Map<string, number[]>();
  strata.forEach((s, i) => {
    const list = groups.get(s);
    if (list) list.push(i);
    else groups.set(s, [i]);
  });
  const out: Split = { train: [], validation: [], test: [] };
  for (const name of [...groups.keys()].sort()) {
    const idx = rng.shuffle([...(groups.get(name) as number[])]);
    const nTest = Math.round(idx.length * f.test);
    const nVal = Math.round(idx.length * f.validation);
    out.test.push(...idx.slice(0, nTest));
    out.validation.push(...idx.slice(nTest, nTest + nVal));
    out.train.push(...idx.slice(nTest + nVal));
  }
  const asc = (a: number, b: number): number => a - b;
  out.train.sort(asc);
  out.validation.sort(asc);
  out.test.sort(asc);
  return out;
}
