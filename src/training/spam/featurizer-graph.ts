/**
 * The in-graph featuriser: ONNX nodes that turn the raw `text` input (STRING [N]) into the feature
 * matrix the classifier reads. Training runs exactly these nodes through onnxruntime to featurise
 * the corpus, and the exported model contains the same nodes, so training-time and served features
 * are identical by construction (no TypeScript re-implementation to drift).
 *
 * Tokenisation (all splits use explicit delimiters, whose semantics the ONNX spec pins down;
 * onnxruntime's delimiter-less StringSplit splits on ' ' only while the spec says "white space"):
 *   lower  = StringNormalizer(text, LOWER, locale C.UTF-8)
 *   words  = split(lower, ' ', maxsplit MAX_WORDS)            [N, T]  -> word bigrams, shape counts
 *   pieces = split(split(words, '\n', max 8), '\r', max 1)      [N, M]  -> unigrams
 * Bigrams are formed on `words`, so they never join across a line break or a double space; a
 * token like "end\nstart" is split into two unigrams by the second stage.
 *
 * Every op is row-wise: padding is the empty string, which is in no vocabulary and matches no
 * pattern, so a message's features do not depend on the rest of its batch.
 */
import type { InitTensor, NodeSpec } from '../graph-builder.js';

/** Words past this many (space-separated) are kept as one unmatched remainder: bounds work per message. */
const MAX_WORDS = 3000;
/** Line breaks inside one space-separated word beyond this many stay unsplit (blank-line runs). */
const MAX_LINE_PIECES = 8;

/**
 * Token-shape signals counted on space-separated words. Each becomes one dense feature
 * log(1 + count). Patterns are RE2 full matches; `cased` ones run on the original-case words.
 */
const SHAPE_FEATURES: readonly { name: string; pattern: string; cased: boolean }[] = [
  { name: 'links', pattern: '(?s).*(https?://|www\\.).*', cased: false },
  { name: 'caps_words', pattern: '[^a-z]*[A-Z]{3,}[^a-z]*', cased: true },
  { name: 'exclamations', pattern: '(?s).*!.*', cased: false },
  { name: 'money', pattern: '(?s).*[$£€].*', cased: false },
  { name: 'numbers', pattern: '[^a-z]*[0-9][^a-z]*', cased: false },
  { name: 'emails', pattern: '(?s).*[a-z0-9]@[a-z0-9].*', cased: false },
  { name: 'html_markers', pattern: '(?s).*(&nbsp;|&amp;|<[a-z/]|>).*', cased: false },
  { name: 'non_ascii', pattern: '(?s).*[^\\x00-\\x7f].*', cased: false },
  { name: 'words', pattern: '(?s).*\\S.*', cased: false },
];
export const DENSE_FEATURES = SHAPE_FEATURES.map((f) => f.name);
/** Floor of the word vector's L2 norm: a message with no known word divides by this, not by 0. */
export const NORM_EPS = 1e-6;

export interface Vocabulary {
  unigrams: string[];
  /** Each bigram as [first, second]. */
  bigrams: [string, string][];
  /** Inverse document frequency per vocabulary entry, in output order (unigrams then bigrams). */
  idf: number[];
}

export function vocabularySize(v: Vocabulary): number {
  return v.unigrams.length + v.bigrams.length;
}

const int64 = (name: string, v: number): InitTensor => ({ name, type: 'INT64', dims: [1], values: [v] });

/** Nodes from `text` to `words_lower` [N, T], `words_case` [N, T] and `pieces` [N, M] (all lower case). */
export function tokenizerNodes(): { nodes: NodeSpec[]; initializers: InitTensor[] } {
  const split = (input: string, output: string, delimiter: string, maxsplit: number): NodeSpec => ({
    op: 'StringSplit',
    inputs: [input],
    outputs: [output, `${output}_n`],
    attrs: { delimiter, maxsplit },
  });
  return {
    initializers: [],
    nodes: [
      // locale C.UTF-8: the default en_US locale is absent in slim images and the op would fail to load.
      {
        op: 'StringNormalizer',
        inputs: ['text'],
        outputs: ['f_lower'],
        attrs: { case_change_action: 'LOWER', locale: 'C.UTF-8' },
      },
      split('f_lower', 'words_lower', ' ', MAX_WORDS),
      split('text', 'words_case', ' ', MAX_WORDS),
      split('words_lower', 'f_pieces_nl', '\n', MAX_LINE_PIECES),
      // Flatten (not Reshape) keeps working when a dimension is 0 (empty messages).
      { op: 'Flatten', inputs: ['f_pieces_nl'], outputs: ['f_pieces_nl2'], attrs: { axis: 1 } },
      split('f_pieces_nl2', 'f_pieces_cr', '\r', 1),
      { op: 'Flatten', inputs: ['f_pieces_cr'], outputs: ['f_pieces_cr2'], attrs: { axis: 1 } },
      // '@' splits addresses so the sender's domain is a token of its own.
      split('f_pieces_cr2', 'f_pieces_at', '@', 1),
      { op: 'Flatten', inputs: ['f_pieces_at'], outputs: ['pieces'], attrs: { axis: 1 } },
    ],
  };
}

function tfidfNode(input: string, output: string, n: 1 | 2, pool: string[], count: number): NodeSpec {
  return {
    op: 'TfIdfVectorizer',
    inputs: [input],
    outputs: [output],
    attrs: {
      mode: 'TF',
      min_gram_length: n,
      max_gram_length: n,
      max_skip_count: 0,
      // Pool of one n-gram size only: unigrams start at 0; for a bigram-only pool, so do bigrams.
      ngram_counts: n === 1 ? [0] : [0, 0],
      ngram_indexes: Array.from({ length: count }, (_, i) => i),
      pool_strings: pool,
    },
  };
}

/**
 * Nodes from the tokens to `f_dense` FLOAT [N, D]: D = DENSE_FEATURES.length token-shape features
 * log(1 + count). Shared by the training featuriser and the served graph (serving-head.ts).
 */
export function shapeFeatureNodes(): { nodes: NodeSpec[]; initializers: InitTensor[] } {
  const nodes: NodeSpec[] = [];
  const dense: string[] = [];
  SHAPE_FEATURES.forEach((f, i) => {
    const p = `f_shape${i}`;
    nodes.push(
      {
        op: 'RegexFullMatch',
        inputs: [f.cased ? 'words_case' : 'words_lower'],
        outputs: [`${p}_hit`],
        attrs: { pattern: f.pattern },
      },
      { op: 'Cast', inputs: [`${p}_hit`], outputs: [`${p}_f`], attrs: { to: 1 } },
      { op: 'ReduceSum', inputs: [`${p}_f`, 'f_axis1'], outputs: [`${p}_n`], attrs: { keepdims: 1 } },
    );
    dense.push(`${p}_n`);
  });
  nodes.push(
    { op: 'Concat', inputs: dense, outputs: ['f_dense_n'], attrs: { axis: 1 } },
    { op: 'Add', inputs: ['f_dense_n', 'f_one'], outputs: ['f_dense_n1'] },
    { op: 'Log', inputs: ['f_dense_n1'], outputs: ['f_dense'] },
  );
  return {
    nodes,
    initializers: [int64('f_axis1', 1), { name: 'f_one', type: 'FLOAT', dims: [], values: [1] }],
  };
}

/**
 * Nodes from `text` to `features` FLOAT [N, V + D]: L2-normalised log(1 + tf) * idf over the word
 * uni/bigram vocabulary, concatenated with the D shape features; with `known`, also `f_known`
 * FLOAT [N, 1], the count of in-vocabulary unigram occurrences. Dense over the vocabulary: what
 * training reads; the served model computes the same scores sparsely (serving-head.ts).
 */
export function featurizerNodes(
  vocab: Vocabulary,
  opts: { known?: boolean } = {},
): { nodes: NodeSpec[]; initializers: InitTensor[] } {
  const tok = tokenizerNodes();
  const shape = shapeFeatureNodes();
  const nodes: NodeSpec[] = [...tok.nodes, ...shape.nodes];
  const initializers: InitTensor[] = [
    ...tok.initializers,
    ...shape.initializers,
    { name: 'f_eps', type: 'FLOAT', dims: [], values: [NORM_EPS] },
    { name: 'f_idf', type: 'FLOAT', dims: [vocab.idf.length], values: vocab.idf },
  ];
  nodes.push(
    tfidfNode('pieces', 'f_tf_uni', 1, vocab.unigrams, vocab.unigrams.length),
    tfidfNode('words_lower', 'f_tf_bi', 2, vocab.bigrams.flat(), vocab.bigrams.length),
    { op: 'Concat', inputs: ['f_tf_uni', 'f_tf_bi'], outputs: ['f_tf'], attrs: { axis: 1 } },
    { op: 'Add', inputs: ['f_tf', 'f_one'], outputs: ['f_tf1'] },
    { op: 'Log', inputs: ['f_tf1'], outputs: ['f_logtf'] },
    { op: 'Mul', inputs: ['f_logtf', 'f_idf'], outputs: ['f_w'] },
    { op: 'ReduceL2', inputs: ['f_w', 'f_axis1'], outputs: ['f_norm'], attrs: { keepdims: 1 } },
    { op: 'Max', inputs: ['f_norm', 'f_eps'], outputs: ['f_norm_safe'] },
    { op: 'Div', inputs: ['f_w', 'f_norm_safe'], outputs: ['f_words'] },
    { op: 'Concat', inputs: ['f_words', 'f_dense'], outputs: ['features'], attrs: { axis: 1 } },
  );
  if (opts.known) {
    // Known unigram occurrences [N, 1]: the evidence a score rests on (export-onnx.ts shrinks
    // scores with little of it towards the prior).
    nodes.push({
      op: 'ReduceSum',
      inputs: ['f_tf_uni', 'f_axis1'],
      outputs: ['f_known'],
      attrs: { keepdims: 1 },
    });
  }
  return { nodes, initializers };
}
