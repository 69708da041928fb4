/**
 * Finds the code examples in README.md and docs/**\/*.md: fenced blocks, their language, the
 * `<!-- example: ... -->` marker on the line before the fence (blank lines between are allowed),
 * and for shell blocks the commands one by one with the output the doc shows after each.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** How a block is checked; blocks in other languages (none, text, diagrams) are not examples. */
type Kind = 'shell' | 'script' | 'json' | 'python';

const KINDS: Record<string, Kind> = {
  sh: 'shell',
  bash: 'shell',
  shell: 'shell',
  console: 'shell',
  ts: 'script',
  typescript: 'script',
  js: 'script',
  javascript: 'script',
  json: 'json',
  python: 'python',
  py: 'python',
};

export interface Block {
  /** Path relative to the repository root, e.g. `docs/api.md`. */
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** 0-based position among the file's example blocks (those with a Kind). */
  index: number;
  lang: string;
  kind: Kind;
  code: string;
  /** The reason given by `<!-- example: skip (reason) -->`, if the block is marked. */
  skip?: string;
}

export interface Extraction {
  blocks: Block[];
  /** Fenced blocks in other languages, counted for the report. */
  ignored: number;
  /** Markers that are malformed or not followed by an example block. */
  problems: string[];
}

const MARKER = /^<!--\s*example:\s*(.*?)\s*-->$/;
const SKIP = /^skip \((.+)\)$/;

/** README.md and every .md under docs/, sorted, relative to `root`. */
export function docFiles(root: string): string[] {
  const out = ['README.md'];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.md')) out.push(relative(root, p));
    }
  };
  walk(join(root, 'docs'));
  return out;
}

export function extract(root: string, files: readonly string[]): Extraction {
  const blocks: Block[] = [];
  const problems: string[] = [];
  let ignored = 0;
  for (const file of files) {
    const lines = readFileSync(join(root, file), 'utf8').split('\n');
    let index = 0;
    let marker: { text: string; line: number } | undefined;
    for (let i = 0; i < lines.length; i++) {
      const trimmed = lines[i].trim();
      const m = MARKER.exec(trimmed);
      if (m) {
        if (marker) problems.push(`${file}:${marker.line}: marker not followed by a code block`);
        marker = { text: m[1], line: i + 1 };
        continue;
      }
      const fence = /^(\s*)(`{3,}|~{3,})\s*([\w+-]*)/.exec(lines[i]);
      if (!fence) {
        if (trimmed !== '' && marker) {
          problems.push(`${file}:${marker.line}: marker not followed by a code block`);
          marker = undefined;
        }
        continue;
      }
      const [, indent, ticks, lang] = fence;
      const body: string[] = [];
      let j = i + 1;
      for (; j < lines.length && !lines[j].trim().startsWith(ticks); j++)
        body.push(lines[j].slice(indent.length));
      const kind = KINDS[lang.toLowerCase()];
      if (kind === undefined) {
        ignored++;
        if (marker)
          problems.push(
            `${file}:${marker.line}: marker before a block that is not an example (${lang || 'no language'})`,
          );
      } else {
        const block: Block = { file, line: i + 1, index: index++, lang, kind, code: body.join('\n') };
        if (marker) {
          const skip = SKIP.exec(marker.text);
          if (skip) block.skip = skip[1];
          else problems.push(`${file}:${marker.line}: unknown marker '${marker.text}' (use: skip (reason))`);
        }
        blocks.push(block);
      }
      marker = undefined;
      i = j;
    }
    if (marker) problems.push(`${file}:${marker.line}: marker at the end of the file`);
  }
  return { blocks, ignored, problems };
}

export interface Command {
  text: string;
  /** The output the doc shows for this command (a comment right after it that holds JSON). */
  expected?: string;
}

/** True when bash can parse `text` as complete commands (quotes and brackets closed). */
function complete(text: string): boolean {
  if (/\\\s*$/.test(text)) return false;
  try {
    execFileSync('bash', ['-n'], { input: text, stdio: ['pipe', 'ignore', 'ignore'] });
    return true;
  } catch {
    return false;
  }
}

/** True while `text` has more `{`/`[` than closing ones outside strings: the JSON goes on. */
function open(text: string): boolean {
  let depth = 0;
  for (const m of text.matchAll(/"(?:[^"\\]|\\.)*"|[[{]|[\]}]/g)) {
    if (m[0] === '{' || m[0] === '[') depth++;
    else if (m[0] === '}' || m[0] === ']') depth--;
  }
  return depth > 0;
}

/**
 * Splits a shell block into commands (a command ends where bash can parse what came so far), and
 * takes the comment right after a command as its expected output when it holds JSON:
 * `# {...}`, `# → {...}` or `# answers: {...}`, continued on further comment lines while its
 * brackets are open. `console` blocks: a leading `$ ` is dropped.
 */
export function shellCommands(code: string): Command[] {
  const out: Command[] = [];
  let pending: string[] = [];
  let last: Command | undefined;
  for (const raw of code.split('\n')) {
    const line = raw.replace(/^\$ /, '');
    if (pending.length === 0) {
      const comment = /^\s*#\s*(?:→|answers:)?\s*(.*)$/.exec(line);
      if (line.trim() === '') continue;
      if (comment) {
        if (last?.expected !== undefined && open(last.expected)) {
          last.expected += ` ${comment[1]}`;
          continue;
        }
        if (last && last.expected === undefined && /^[[{]/.test(comment[1])) {
          last.expected = comment[1];
          continue;
        }
        last = undefined;
        continue;
      }
    }
    pending.push(line);
    const text = pending.join('\n');
    if (complete(text)) {
      last = { text };
      out.push(last);
      pending = [];
    }
  }
  if (pending.length > 0) throw new Error(`unterminated command: ${pending.join('\n')}`);
  return out;
}
