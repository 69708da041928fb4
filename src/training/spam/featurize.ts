/**
 * Runs the in-graph featuriser through onnxruntime to featurise training data, and chooses the
 * vocabulary. Because features come from the same ONNX nodes the served model runs, there is no
 * second (TypeScript) featuriser that could disagree with serving.
 */
import ort from 'onnxruntime-node';
import { buildModel } from '../graph-builder.js';
import {
  DENSE_FEATURES,
  featurizerNodes,
  tokenizerNodes,
  vocabularySize,
  type Vocabulary,
} from './featurizer-graph.js';

/** One feature row in sparse form; indices ascending. */
export interface SparseRow {
  idx: Int32Array;
  val: Float32Array;
  /** In-vocabulary unigram occurrences (the graph's `f_known`; evidence.ts), when featurize set it. */
  known?: number;
}

export interface VocabOptions {
  /** A term must occur in at least this many training documents. */
  minDf: number;
  maxUnigrams: number;
  maxBigrams: number;
}

export const DEFAULT_VOCAB: VocabOptions = { minDf: 3, maxUnigrams: 12000, maxBigrams: 8000 };
/** Small batches: StringSplit pads every row to the longest in the batch. */
const BATCH = 16;
const FLOAT_OUTPUTS = new Set(['features', 'f_known']);

async function session(
  nodes: ReturnType<typeof tokenizerNodes>,
  outputs: string[],
): Promise<ort.InferenceSession> {
  const bytes = buildModel({
    opset: 20,
    inputs: [{ name: 'text', type: 'STRING', shape: ['N'] }],
    outputs: outputs.map((name) => ({
      name,
      type: FLOAT_OUTPUTS.has(name) ? ('FLOAT' as const) : ('STRING' as const),
      shape: ['N', 'T'],
    })),
    nodes: nodes.nodes,
    initializers: nodes.initializers,
  });
  return ort.InferenceSession.create(bytes, { intraOpNumThreads: 2, interOpNumThreads: 1 });
}

/** Tokens of one message as the served graph sees them: unigram pieces and bigram-forming words. */
export interface Tokens {
  pieces: string[];
  /** Space-separated words in order; '' entries (double spaces) and line breaks block bigrams. */
  words: string[];
}

function rows(t: ort.Tensor, n: number): string[][] {
  const width = (t.dims[1] as number) ?? 0;
  const data = t.data as string[];
  return Array.from({ length: n }, (_, i) => data.slice(i * width, (i + 1) * width));
}

/** Tokenises texts with the graph's own tokenizer nodes (run by onnxruntime). */
export async function tokenize(texts: readonly string[]): Promise<Tokens[]> {
  const s = await session(tokenizerNodes(), ['pieces', 'words_lower']);
  const out: Tokens[] = [];
  for (let start = 0; start < texts.length; start += BATCH) {
    const batch = texts.slice(start, start + BATCH);
    const r = await s.run({ text: new ort.Tensor('string', [...batch], [batch.length]) });
    const pieces = rows(r['pieces'] as ort.Tensor, batch.length);
    const words = rows(r['words_lower'] as ort.Tensor, batch.length);
    pieces.forEach((p, i) => out.push({ pieces: p.filter((t) => t !== ''), words: words[i] as string[] }));
  }
  await s.release();
  return out;
}

function topByDf(df: Map<string, number>, minDf: number, max: number): string[] {
  return [...df.entries()]
    .filter(([, n]) => n >= minDf)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, max)
    .map(([t]) => t);
}

/** Chooses the uni/bigram vocabulary by training document frequency and computes smoothed IDF. */
export function buildVocabulary(docs: readonly Tokens[], opts: VocabOptions = DEFAULT_VOCAB): Vocabulary {
  const uniDf = new Map<string, number>();
  const biDf = new Map<string, number>();
  // A bigram's parts contain no ' ' (they come from a ' ' split), so ' ' joins them unambiguously;
  // parts with a line break can never match a pool entry in the graph and are skipped.
  const clean = (t: string | undefined): boolean => !!t && !t.includes('\n') && !t.includes('\r');
  for (const doc of docs) {
    const uni = new Set(doc.pieces);
    const bi = new Set<string>();
    const w = doc.words;
    for (let i = 0; i + 1 < w.length; i++) if (clean(w[i]) && clean(w[i + 1])) bi.add(`${w[i]} ${w[i + 1]}`);
    for (const t of uni) uniDf.set(t, (uniDf.get(t) ?? 0) + 1);
    for (const t of bi) biDf.set(t, (biDf.get(t) ?? 0) + 1);
  }
  const unigrams = topByDf(uniDf, opts.minDf, opts.maxUnigrams);
  const biKeys = topByDf(biDf, opts.minDf, opts.maxBigrams);
  const n = docs.length;
  const idfOf = (df: number): number => Math.log((1 + n) / (1 + df)) + 1;
  return {
    unigrams,
    // Tokens never contain white space (they come from a white-space split), so ' ' separates safely.
    bigrams: biKeys.map((k) => k.split(' ') as [string, string]),
    idf: [...unigrams.map((t) => idfOf(uniDf.get(t) ?? 0)), ...biKeys.map((t) => idfOf(biDf.get(t) ?? 0))],
  };
}

/**
 * Featurises texts with the ONNX featuriser; returns sparse rows of width vocabularySize + dense,
 * each with its known-word count.
 */
export async function featurize(
  vocab: Vocabulary,
  texts: readonly string[],
  onProgress?: (done: number, total: number) => void,
): Promise<SparseRow[]> {
  const s = await session(featurizerNodes(vocab, { known: true }), ['features', 'f_known']);
  const width = vocabularySize(vocab) + DENSE_FEATURES.length;
  const rows: SparseRow[] = [];
  for (let start = 0; start < texts.length; start += BATCH) {
    const batch = texts.slice(start, start + BATCH);
    const r = await s.run({ text: new ort.Tensor('string', [...batch], [batch.length]) });
    const data = (r['features'] as ort.Tensor).data as Float32Array;
    const known = (r['f_known'] as ort.Tensor).data as Float32Array;
    for (let i = 0; i < batch.length; i++) {
      const dense = data.subarray(i * width, (i + 1) * width);
      const idx: number[] = [];
      for (let j = 0; j < width; j++) if (dense[j] !== 0) idx.push(j);
      rows.push({
        idx: Int32Array.from(idx),
        val: Float32Array.from(idx, (j) => dense[j] as number),
        known: known[i] as number,
      });
    }
    onProgress?.(Math.min(start + BATCH, texts.length), texts.length);
  }
  await s.release();
  return rows;
}
