/**
 * Exact and near-duplicate removal. The SpamAssassin corpus repeats many messages (the same spam
 * sent to several addresses, list mails quoted in full); a duplicate on both sides of the split
 * would inflate the test score. We cluster duplicates over the WHOLE corpus before splitting and
 * keep one message per cluster, so no test message has a copy or near copy in train/validation.
 *
 * - exact: FNV hashes of the normalised body (lower case, letters and digits only, single spaces);
 * - near: MinHash over word 5-shingles with LSH banding; a candidate pair is merged when the
 *   estimated Jaccard similarity is at least `NEAR_DUP_JACCARD`.
 */
import { fnv1a } from '../stats/prng.js';

const NEAR_DUP_JACCARD = 0.8;
const NUM_HASHES = 64;
const BANDS = 16; // 16 bands x 4 rows: pairs above ~0.5 Jaccard become candidates, then are verified.
const ROWS = NUM_HASHES / BANDS;
const SHINGLE = 5;

/** Lower case, letters/digits only, single spaces: formatting differences do not hide a duplicate. */
function normaliseForDedup(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

function minhash(words: string[]): Uint32Array {
  const sig = new Uint32Array(NUM_HASHES).fill(0xffffffff);
  const n = Math.max(1, words.length - SHINGLE + 1);
  for (let i = 0; i < n; i++) {
    const base = fnv1a(words.slice(i, i + SHINGLE).join(' '));
    for (let k = 0; k < NUM_HASHES; k++) {
      // Cheap independent hash family: re-mix the shingle hash with a per-k odd multiplier.
      let h = Math.imul(base ^ (k * 0x9e3779b1), 0x85ebca6b) >>> 0;
      h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
      h = (h ^ (h >>> 16)) >>> 0;
      if (h < (sig[k] as number)) sig[k] = h;
    }
  }
  return sig;
}

function similarity(a: Uint32Array, b: Uint32Array): number {
  let same = 0;
  for (let k = 0; k < NUM_HASHES; k++) if (a[k] === b[k]) same++;
  return same / NUM_HASHES;
}

class UnionFind {
  private readonly parent: Int32Array;
  constructor(n: number) {
    this.parent = Int32Array.from({ length: n }, (_, i) => i);
  }
  find(i: number): number {
    let r = i;
    while (this.parent[r] !== r) r = this.parent[r] as number;
    while (this.parent[i] !== r) {
      const next = this.parent[i] as number;
      this.parent[i] = r;
      i = next;
    }
    return r;
  }
  /** Keeps the smaller index as the root, so the earliest message of a cluster is the one kept. */
  union(a: number, b: number): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra !== rb) this.parent[Math.max(ra, rb)] = Math.min(ra, rb);
  }
}

export interface DedupResult {
  /** Indices (ascending) of the messages kept: one per duplicate cluster. */
  keep: number[];
  exactRemoved: number;
  nearRemoved: number;
  /** Clusters mixing spam and ham (kept message's label wins); reported, expected to be ~0. */
  labelConflicts: number;
}

/** Deduplicates texts (typically subject + body); `labels` only feeds the conflict count. */
export function deduplicate(texts: readonly string[], labels: readonly number[]): DedupResult {
  const n = texts.length;
  const uf = new UnionFind(n);
  const norm = texts.map(normaliseForDedup);
  const byHash = new Map<string, number>();
  let exactRemoved = 0;
  norm.forEach((t, i) => {
    const key = `${fnv1a(t)}:${fnv1a(t, 0x1234567)}:${t.length}`;
    const first = byHash.get(key);
    if (first === undefined) byHash.set(key, i);
    else if (norm[first] === t) {
      uf.union(first, i);
      exactRemoved++;
    }
  });
  const sigs = norm.map((t) => minhash(t.length > 0 ? t.split(' ') : []));
  for (let b = 0; b < BANDS; b++) {
    const buckets = new Map<string, number[]>();
    for (let i = 0; i < n; i++) {
      const key = Array.from((sigs[i] as Uint32Array).subarray(b * ROWS, (b + 1) * ROWS)).join(',');
      const list = buckets.get(key);
      if (list) list.push(i);
      else buckets.set(key, [i]);
    }
    for (const list of buckets.values()) {
      const head = list[0] as number;
      for (const j of list.slice(1)) {
        if (similarity(sigs[head] as Uint32Array, sigs[j] as Uint32Array) >= NEAR_DUP_JACCARD)
          uf.union(head, j);
      }
    }
  }
  const keep: number[] = [];
  let labelConflicts = 0;
  for (let i = 0; i < n; i++) {
    const r = uf.find(i);
    if (r === i) keep.push(i);
    else if (labels[r] !== labels[i]) labelConflicts++;
  }
  return { keep, exactRemoved, nearRemoved: n - keep.length - exactRemoved, labelConflicts };
}
