/**
 * The served model's word features, computed sparsely. Training reads the dense featuriser
 * (featurizer-graph.ts): log(1 + tf) * idf over all V = 20,000 vocabulary entries per message,
 * L2-normalised, then a MatMul with the first layer. Per message that is ~10 passes over V floats
 * (~130 µs a row on the bench machine, ~85% of the model's time at batch 64), almost all on zeros:
 * a short message has a dozen known words. This head computes the same first-layer product from
 * the message's known n-grams only:
 *
 *   ids      = vocabulary index of every unigram piece and every adjacent word pair (LabelEncoder)
 *   key      = row · (V + 1) + (id + 1)           (0 for an unknown token; Unique counts per row)
 *   w        = log(1 + count) · idf[id]
 *   z[row]   = Σ w · W[id] / max(‖w‖₂, ε) + f_dense · W_dense
 *
 * which is the dense product with the terms that are 0 left out, summed in another order (float
 * rounding only: test/spam/serving-head.test.ts holds it to the dense graph on every split).
 * Bigram keys join the two words with ' ': vocabulary words never contain a space, so a key with
 * one space matches only that pair, and a live word that contains one (the remainder past
 * MAX_WORDS) makes a key with two spaces that matches nothing, as TfIdfVectorizer would.
 */
import type { InitTensor, NodeSpec } from '../graph-builder.js';
import { NORM_EPS, type Vocabulary } from './featurizer-graph.js';

/** Rows of `w` [inputs x k] (row-major) from `from` (inclusive) to `to` (exclusive), as float32 values. */
function rows(w: ArrayLike<number>, k: number, from: number, to: number): Float32Array {
  const out = new Float32Array((to - from) * k);
  for (let i = 0; i < out.length; i++) out[i] = w[from * k + i] as number;
  return out;
}

/**
 * Nodes from the tokens (`pieces`, `words_lower`) and `f_dense` [N, D] to `output` FLOAT [N, k]:
 * features · W, where W is the first layer ([V + D, k], row-major; k = hidden units, or 1 for
 * logistic regression); and to `f_known` FLOAT [N, 1], the in-vocabulary unigram occurrences.
 */
export function sparseHeadNodes(
  vocab: Vocabulary,
  w: ArrayLike<number>,
  k: number,
  output: string,
): { nodes: NodeSpec[]; initializers: InitTensor[] } {
  const U = vocab.unigrams.length;
  const V = U + vocab.bigrams.length;
  const D = w.length / k - V;
  if (!Number.isInteger(D) || D < 0)
    throw new RangeError(`first layer of ${w.length} is not [${V} + D, ${k}]`);
  // An empty entry would match the tokens' padding; a pair word with a space would be ambiguous.
  if (vocab.unigrams.includes('')) throw new RangeError('the unigram vocabulary holds an empty string');
  for (const [a, b] of vocab.bigrams) {
    if (a === '' || b === '' || a.includes(' ') || b.includes(' ')) {
      throw new RangeError(`bigram ${JSON.stringify([a, b])} cannot be matched as one key`);
    }
  }
  // Slot 0 is "unknown": idf 0 and a zero row, so unknown tokens add nothing.
  const idf = new Float32Array(V + 1);
  idf.set(vocab.idf, 1);
  const wWords = new Float32Array((V + 1) * k);
  wWords.set(rows(w, k, 0, V), k);
  const i64 = (name: string, values: number[], dims = [values.length]): InitTensor => ({
    name,
    type: 'INT64',
    dims,
    values,
  });
  const initializers: InitTensor[] = [
    i64('s_zero', [0]),
    i64('s_one', [1]),
    i64('s_minus1', [-1]),
    i64('s_end', [Number.MAX_SAFE_INTEGER]),
    i64('s_axes1', [1]),
    i64('s_flat', [-1]),
    i64('s_k', [k]),
    i64('s_slots', [V + 1], []),
    i64('s_zero_s', [0], []),
    i64('s_one_s', [1], []),
    { name: 's_space', type: 'STRING', dims: [], values: [' '] },
    { name: 's_idf', type: 'FLOAT', dims: [V + 1], values: idf },
    { name: 's_w', type: 'FLOAT', dims: [V + 1, k], values: wWords },
    { name: 's_w_dense', type: 'FLOAT', dims: [D, k], values: rows(w, k, V, V + D) },
    { name: 's_one_f', type: 'FLOAT', dims: [], values: [1] },
    { name: 's_eps', type: 'FLOAT', dims: [], values: [NORM_EPS] },
  ];
  const encoder = (input: string, out: string, keys: string[], first: number): NodeSpec => ({
    op: 'LabelEncoder',
    domain: 'ai.onnx.ml',
    inputs: [input],
    outputs: [out],
    attrs: {
      keys_strings: keys,
      values_int64s: keys.map((_, i) => first + i),
      default_int64: -1,
    },
  });
  const nodes: NodeSpec[] = [
    // Vocabulary indices of the unigram pieces [N, M] and of the adjacent word pairs [N, T - 1].
    encoder('pieces', 's_uni', vocab.unigrams, 0),
    { op: 'Slice', inputs: ['words_lower', 's_zero', 's_minus1', 's_axes1'], outputs: ['s_left'] },
    { op: 'Slice', inputs: ['words_lower', 's_one', 's_end', 's_axes1'], outputs: ['s_right'] },
    { op: 'StringConcat', inputs: ['s_left', 's_space'], outputs: ['s_left_sp'] },
    { op: 'StringConcat', inputs: ['s_left_sp', 's_right'], outputs: ['s_pairs'] },
    encoder(
      's_pairs',
      's_bi',
      vocab.bigrams.map(([a, b]) => `${a} ${b}`),
      U,
    ),
    { op: 'Concat', inputs: ['s_uni', 's_bi'], outputs: ['s_ids'], attrs: { axis: 1 } },
    // One key per (row, slot); Unique counts each message's occurrences of each n-gram.
    { op: 'Shape', inputs: ['s_ids'], outputs: ['s_shape'] },
    { op: 'Gather', inputs: ['s_shape', 's_zero_s'], outputs: ['s_n'], attrs: { axis: 0 } },
    { op: 'Range', inputs: ['s_zero_s', 's_n', 's_one_s'], outputs: ['s_rows'] },
    { op: 'Mul', inputs: ['s_rows', 's_slots'], outputs: ['s_base'] },
    { op: 'Unsqueeze', inputs: ['s_base', 's_axes1'], outputs: ['s_base2'] },
    { op: 'Add', inputs: ['s_ids', 's_one_s'], outputs: ['s_slot_ids'] },
    { op: 'Add', inputs: ['s_slot_ids', 's_base2'], outputs: ['s_keys2'] },
    { op: 'Reshape', inputs: ['s_keys2', 's_flat'], outputs: ['s_keys'] },
    {
      op: 'Unique',
      inputs: ['s_keys'],
      outputs: ['s_ukeys', '', '', 's_counts'],
      attrs: { sorted: 1 },
    },
    { op: 'Div', inputs: ['s_ukeys', 's_slots'], outputs: ['s_urow'] },
    { op: 'Mod', inputs: ['s_ukeys', 's_slots'], outputs: ['s_uslot'] },
    // w = log(1 + count) · idf, then Σ w·W per row and Σ w² per row, scattered into [N, k] and [N].
    { op: 'Cast', inputs: ['s_counts'], outputs: ['s_tf'], attrs: { to: 1 } },
    { op: 'Add', inputs: ['s_tf', 's_one_f'], outputs: ['s_tf1'] },
    { op: 'Log', inputs: ['s_tf1'], outputs: ['s_logtf'] },
    { op: 'Gather', inputs: ['s_idf', 's_uslot'], outputs: ['s_uidf'], attrs: { axis: 0 } },
    { op: 'Mul', inputs: ['s_logtf', 's_uidf'], outputs: ['s_wt'] },
    { op: 'Gather', inputs: ['s_w', 's_uslot'], outputs: ['s_urows'], attrs: { axis: 0 } },
    { op: 'Unsqueeze', inputs: ['s_wt', 's_axes1'], outputs: ['s_wt2'] },
    { op: 'Mul', inputs: ['s_urows', 's_wt2'], outputs: ['s_terms'] },
    { op: 'Unsqueeze', inputs: ['s_urow', 's_axes1'], outputs: ['s_index'] },
    { op: 'Reshape', inputs: ['s_n', 's_flat'], outputs: ['s_n1'] },
    { op: 'Concat', inputs: ['s_n1', 's_k'], outputs: ['s_nk'], attrs: { axis: 0 } },
    { op: 'ConstantOfShape', inputs: ['s_nk'], outputs: ['s_zeros_nk'] },
    { op: 'ConstantOfShape', inputs: ['s_n1'], outputs: ['s_zeros_n'] },
    {
      op: 'ScatterND',
      inputs: ['s_zeros_nk', 's_index', 's_terms'],
      outputs: ['s_sum'],
      attrs: { reduction: 'add' },
    },
    { op: 'Mul', inputs: ['s_wt', 's_wt'], outputs: ['s_sq'] },
    {
      op: 'ScatterND',
      inputs: ['s_zeros_n', 's_index', 's_sq'],
      outputs: ['s_sumsq'],
      attrs: { reduction: 'add' },
    },
    { op: 'Sqrt', inputs: ['s_sumsq'], outputs: ['s_norm'] },
    { op: 'Max', inputs: ['s_norm', 's_eps'], outputs: ['s_norm_safe'] },
    { op: 'Unsqueeze', inputs: ['s_norm_safe', 's_axes1'], outputs: ['s_norm2'] },
    { op: 'Div', inputs: ['s_sum', 's_norm2'], outputs: ['s_words'] },
    { op: 'MatMul', inputs: ['f_dense', 's_w_dense'], outputs: ['s_dense'] },
    { op: 'Add', inputs: ['s_words', 's_dense'], outputs: [output] },
    // In-vocabulary unigram occurrences (the dense graph's ReduceSum of the unigram counts).
    { op: 'GreaterOrEqual', inputs: ['s_uni', 's_zero_s'], outputs: ['s_known_b'] },
    { op: 'Cast', inputs: ['s_known_b'], outputs: ['s_known_f'], attrs: { to: 1 } },
    { op: 'ReduceSum', inputs: ['s_known_f', 's_axes1'], outputs: ['f_known'], attrs: { keepdims: 1 } },
  ];
  return { nodes, initializers };
}
