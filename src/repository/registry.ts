/**
 * The registry view of a local model repository: every version with its lineage (lineage.ts) and
 * whether its file still matches, and aliases that move atomically with an append-only history.
 *   - An alias lives in `<model>/config.json` `aliases` (what the router reads); moving it rewrites
 *     config.json through a temporary file and rename(2), so a server reloading at that moment
 *     reads the old or the new file, never half of one.
 *   - Every move appends one JSON line to `<model>/aliases.history.jsonl`: alias, from, to, by,
 *     at, reason. Lines are never rewritten.
 */
import type { Dirent } from 'node:fs';
import {
  appendFileSync,
  existsSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { InferdError } from '../errors.js';
import type { Lineage } from '../core/lineage.js';
import { readLineage, verifyLineage } from './lineage.js';
import { isModelName } from './scan.js';

const ALIAS_HISTORY_FILE = 'aliases.history.jsonl';
const ALIAS_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

export interface VersionEntry {
  version: string;
  lineage: Lineage | undefined;
  /** 'verified': file matches; 'modified': it does not; 'no manifest'; 'unreadable: …'. */
  integrity: string;
  aliases: string[];
}

export interface AliasMove {
  alias: string;
  from: string | null;
  to: string;
  by: string;
  at: string;
  reason: string;
}

function modelDirOf(repo: string, model: string): string {
  const dir = join(repo, model);
  if (!isModelName(model) || !existsSync(dir)) {
    throw new InferdError('model_not_found', `no model '${model.slice(0, 128)}' in ${repo}`);
  }
  return dir;
}

function readConfigJson(dir: string): Record<string, unknown> {
  const path = join(dir, 'config.json');
  if (!existsSync(path)) return {};
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new InferdError('invalid_config', `${path} is not valid JSON: ${(err as Error).message}`);
  }
}

export function aliasesOf(repo: string, model: string): Record<string, string> {
  const raw = readConfigJson(modelDirOf(repo, model))['aliases'];
  const out: Record<string, string> = {};
  if (raw && typeof raw === 'object') for (const [k, v] of Object.entries(raw)) out[k] = String(v);
  return out;
}

/** A folder, or a symlink to one (as the server's scan reads them). */
function folderSync(dir: string, e: Dirent): boolean {
  if (e.isDirectory()) return true;
  return (
    e.isSymbolicLink() && (statSync(join(dir, e.name), { throwIfNoEntry: false })?.isDirectory() ?? false)
  );
}

export function listModels(repo: string): string[] {
  return readdirSync(repo, { withFileTypes: true })
    .filter((e) => folderSync(repo, e) && isModelName(e.name))
    .map((e) => e.name)
    .sort();
}

export async function listVersionEntries(repo: string, model: string): Promise<VersionEntry[]> {
  const dir = modelDirOf(repo, model);
  const aliases = aliasesOf(repo, model);
  const versions = readdirSync(dir, { withFileTypes: true })
    .filter((e) => folderSync(dir, e) && /^\d+$/.test(e.name))
    .map((e) => e.name)
    .sort((a, b) => Number(a) - Number(b));
  const out: VersionEntry[] = [];
  for (const version of versions) {
    const vdir = join(dir, version);
    let lineage: Lineage | undefined;
    let integrity: string;
    try {
      lineage = await readLineage(vdir);
      integrity = lineage ? 'verified' : 'no manifest';
      if (lineage) await verifyLineage(vdir);
    } catch (err) {
      integrity = lineage ? 'MODIFIED' : `unreadable: ${(err as Error).message}`;
    }
    const names = Object.entries(aliases)
      .filter(([, v]) => v === version)
      .map(([k]) => k);
    out.push({ version, lineage, integrity, aliases: names });
  }
  return out;
}

export function aliasHistory(repo: string, model: string): AliasMove[] {
  const path = join(modelDirOf(repo, model), ALIAS_HISTORY_FILE);
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as AliasMove);
}

/** Points `alias` at `version` (which must exist), recording who, when and why. */
export function moveAlias(
  repo: string,
  model: string,
  alias: string,
  version: string,
  who: { by: string; reason: string },
): AliasMove {
  const dir = modelDirOf(repo, model);
  if (!ALIAS_NAME.test(alias) || /^\d+$/.test(alias)) {
    throw new InferdError(
      'invalid_request',
      `alias '${alias.slice(0, 64)}' must be a letter then letters, digits, - or _ (64 at most)`,
    );
  }
  const v = /^\d+$/.test(version) ? String(Number(version)) : undefined;
  if (v === undefined || !existsSync(join(dir, v))) {
    throw new InferdError('version_not_found', `model '${model}' has no version '${version.slice(0, 32)}'`);
  }
  if (who.reason.trim() === '')
    throw new InferdError('invalid_request', 'a reason is required for the history');
  const config = readConfigJson(dir);
  const aliases = { ...((config['aliases'] as Record<string, string> | undefined) ?? {}) };
  const from = aliases[alias] !== undefined ? String(aliases[alias]) : null;
  aliases[alias] = v;
  const path = join(dir, 'config.json');
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify({ ...config, aliases }, null, 2)}\n`);
  renameSync(tmp, path);
  const move: AliasMove = {
    alias,
    from,
    to: v,
    by: who.by.slice(0, 128),
    at: new Date().toISOString(),
    reason: who.reason.slice(0, 1024),
  };
  appendFileSync(join(dir, ALIAS_HISTORY_FILE), `${JSON.stringify(move)}\n`);
  return move;
}
