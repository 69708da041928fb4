/**
 * The dataset pipeline shared by `train` and `evaluate`: load raw messages, parse them into model
 * text, remove duplicates over the whole corpus, then split. Given the same package contents and
 * seed it always yields the same examples in the same order.
 */
import { createHash } from 'node:crypto';
import { loadCorpus, stratumOf, type RawMessage } from './corpus.js';
import { deduplicate } from './dedup.js';
import { parseMessage, renderModelText } from './parse-mail.js';
import { stratifiedSplit } from './split.js';

export interface Example {
  key: string;
  label: 0 | 1;
  stratum: string;
  /** Model text: exactly what the served model receives as its `text` input. */
  text: string;
}

export interface PreparedData {
  train: Example[];
  validation: Example[];
  test: Example[];
  corpusSize: number;
  /** SHA-256 over every corpus message (key, label, SHA-256 of its bytes), in corpus order. */
  corpusSha256: string;
  duplicates: { exact: number; near: number; labelConflicts: number };
}

/** Parses raw messages into examples, calling `onProgress(done, total)` as it goes. */
async function parseAll(
  raws: readonly RawMessage[],
  onProgress?: (done: number, total: number) => void,
): Promise<{ examples: Example[]; dedupTexts: string[] }> {
  const examples: Example[] = [];
  const dedupTexts: string[] = [];
  for (const [i, m] of raws.entries()) {
    const parsed = await parseMessage(m.raw);
    examples.push({ key: m.key, label: m.label, stratum: stratumOf(m.group), text: renderModelText(parsed) });
    // Duplicates are judged on what a reader sees (subject + body), not on routing headers.
    dedupTexts.push(`${parsed.subject}\n${parsed.body}`);
    if (onProgress && (i % 100 === 99 || i === raws.length - 1)) onProgress(i + 1, raws.length);
  }
  return { examples, dedupTexts };
}

function corpusDigest(raws: readonly RawMessage[]): string {
  const all = createHash('sha256');
  for (const r of raws) {
    all.update(`${r.key}\t${r.label}\t${createHash('sha256').update(r.raw).digest('hex')}\n`);
  }
  return all.digest('hex');
}

/** Full pipeline: corpus -> parsed -> deduplicated -> stratified split by `seed`. */
export async function prepareData(
  seed: number,
  onProgress?: (stage: string, done: number, total: number) => void,
): Promise<PreparedData> {
  const raws = loadCorpus();
  const { examples, dedupTexts } = await parseAll(raws, (d, t) => onProgress?.('parse', d, t));
  const dd = deduplicate(
    dedupTexts,
    examples.map((e) => e.label),
  );
  const kept = dd.keep.map((i) => examples[i] as Example);
  const split = stratifiedSplit(
    kept.map((e) => e.stratum),
    seed,
  );
  const pick = (idx: number[]): Example[] => idx.map((i) => kept[i] as Example);
  return {
    train: pick(split.train),
    validation: pick(split.validation),
    test: pick(split.test),
    corpusSize: raws.length,
    corpusSha256: corpusDigest(raws),
    duplicates: { exact: dd.exactRemoved, near: dd.nearRemoved, labelConflicts: dd.labelConflicts },
  };
}

/** Loads and parses only the listed messages (the recorded test split), in corpus order. */
export async function loadExamples(keys: readonly string[]): Promise<Example[]> {
  const raws = loadCorpus(new Set(keys));
  return (await parseAll(raws)).examples;
}
