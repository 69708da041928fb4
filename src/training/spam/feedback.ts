/**
 * Customer corrections as training data (`inferd train spam --with-feedback`,
 * docs/lifecycle.md#feedback-and-drift). Corrections go to the TRAIN split only, never to
 * validation or test; one that is an exact or near duplicate of any corpus message (whatever its
 * split) or of an earlier correction is dropped, so the held-out test split stays unseen and a
 * message is never counted twice. The digest names exactly the rows added (lineage `data.feedback`).
 */
import { createHash } from 'node:crypto';
import type { Example } from './dataset.js';
import { deduplicate } from './dedup.js';

/** One correction: the logged input text and its true label (1 = spam). */
export interface FeedbackRow {
  /** The prediction's request id, unique per key: `<key id>/<request id>`. */
  id: string;
  text: string;
  label: 0 | 1;
}

export interface FeedbackAdded {
  /** The corrections kept, as training examples (key `feedback/<id>`). */
  examples: Example[];
  /** Lineage `data.feedback`: rows added and SHA-256 over them (id, label, SHA-256 of the text). */
  lineage: { rows: number; sha256: string };
  /** Corrections dropped as duplicates of the corpus or of an earlier correction. */
  duplicates: number;
}

/**
 * Keeps the corrections that duplicate nothing in `corpus` (every split's examples) nor an earlier
 * correction. Deduplication runs over corpus + corrections together; its clusters keep their
 * earliest member, so a correction survives only when it is first in its cluster.
 */
export function addFeedback(corpus: readonly Example[], rows: readonly FeedbackRow[]): FeedbackAdded {
  const texts = [...corpus.map((e) => e.text), ...rows.map((r) => r.text)];
  const labels = [...corpus.map((e) => e.label), ...rows.map((r) => r.label)];
  const keep = new Set(deduplicate(texts, labels).keep);
  const examples: Example[] = [];
  const digest = createHash('sha256');
  rows.forEach((r, i) => {
    if (!keep.has(corpus.length + i)) return;
    examples.push({ key: `feedback/${r.id}`, label: r.label, stratum: 'feedback', text: r.text });
    digest.update(`${r.id}\t${r.label}\t${createHash('sha256').update(r.text).digest('hex')}\n`);
  });
  return {
    examples,
    lineage: { rows: examples.length, sha256: digest.digest('hex') },
    duplicates: rows.length - examples.length,
  };
}
