/**
 * Baselines scored on the same split as the model: a majority-class predictor and multinomial
 * naive Bayes over the same vocabulary tokens (unigram pieces + word bigrams) the model sees.
 */
import type { Tokens } from './featurize.js';
import type { Vocabulary } from './featurizer-graph.js';

/** Constant P(spam) = training spam rate; the label is the training majority class. */
export function majorityBaseline(trainY: readonly number[]): { prob: number; threshold: number } {
  const rate = trainY.reduce((s, v) => s + v, 0) / Math.max(1, trainY.length);
  // Threshold 0.5 on the constant rate reproduces "always predict the majority class".
  return { prob: rate, threshold: 0.5 };
}

function termIds(vocab: Vocabulary): { uni: Map<string, number>; bi: Map<string, number> } {
  const uni = new Map(vocab.unigrams.map((t, i) => [t, i] as const));
  const bi = new Map(vocab.bigrams.map((b, i) => [b.join(' '), vocab.unigrams.length + i] as const));
  return { uni, bi };
}

function termsOf(doc: Tokens, ids: ReturnType<typeof termIds>): number[] {
  const out: number[] = [];
  for (const p of doc.pieces) {
    const id = ids.uni.get(p);
    if (id !== undefined) out.push(id);
  }
  for (let i = 0; i + 1 < doc.words.length; i++) {
    const id = ids.bi.get(`${doc.words[i]} ${doc.words[i + 1]}`);
    if (id !== undefined) out.push(id);
  }
  return out;
}

export interface NaiveBayes {
  /** log P(term | spam) - log P(term | ham), per vocabulary id. */
  logRatio: Float64Array;
  logPrior: number;
  ids: ReturnType<typeof termIds>;
}

/** Multinomial naive Bayes with Laplace (add-one) smoothing. */
export function fitNaiveBayes(vocab: Vocabulary, docs: readonly Tokens[], y: readonly number[]): NaiveBayes {
  const ids = termIds(vocab);
  const V = vocab.unigrams.length + vocab.bigrams.length;
  const counts = [new Float64Array(V).fill(1), new Float64Array(V).fill(1)];
  const totals = [V, V];
  const classN = [0, 0];
  docs.forEach((doc, i) => {
    const c = y[i] as 0 | 1;
    classN[c] = (classN[c] as number) + 1;
    for (const id of termsOf(doc, ids)) {
      (counts[c] as Float64Array)[id] = ((counts[c] as Float64Array)[id] as number) + 1;
      totals[c] = (totals[c] as number) + 1;
    }
  });
  const logRatio = Float64Array.from(
    { length: V },
    (_, k) =>
      Math.log(((counts[1] as Float64Array)[k] as number) / (totals[1] as number)) -
      Math.log(((counts[0] as Float64Array)[k] as number) / (totals[0] as number)),
  );
  const logPrior = Math.log(((classN[1] as number) + 1) / ((classN[0] as number) + 1));
  return { logRatio, logPrior, ids };
}

/** Posterior P(spam | doc); log-odds are clamped so the sigmoid stays finite. */
export function naiveBayesProb(nb: NaiveBayes, doc: Tokens): number {
  let lo = nb.logPrior;
  for (const id of termsOf(doc, nb.ids)) lo += nb.logRatio[id] as number;
  lo = Math.max(-700, Math.min(700, lo));
  return 1 / (1 + Math.exp(-lo));
}
