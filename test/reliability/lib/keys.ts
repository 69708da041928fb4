/** Customer API keys for the suite's servers, created as an operator would: `inferd keys create`. */
import { spawnSync } from 'node:child_process';

export interface CreatedKey {
  /** The secret, as a customer sends it. */
  key: string;
  /** The public id usage records carry. */
  id: string;
}

/** Creates a key in the SQLite store under `dataDir` (the key is printed on stdout, its id on stderr). */
export function createKey(dataDir: string, name: string, plan = 'unlimited'): CreatedKey {
  const res = keysCli(['create', '--data-dir', dataDir, '--name', name, '--plan', plan]);
  const key = res.stdout.trim().split('\n').pop() ?? '';
  const id = /id=(\S+)/.exec(res.stderr)?.[1];
  if (res.status !== 0 || !/^ik_\w+/.test(key) || !id) {
    throw new Error(`inferd keys create failed (${res.status}): ${res.stderr}`);
  }
  return { key, id };
}

/** Runs an `inferd keys …` command; never throws, returns its exit status and output. */
export function keysCli(args: string[]): { status: number; stdout: string; stderr: string } {
  const res = spawnSync(process.execPath, ['bin/inferd.js', 'keys', ...args], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { status: res.status ?? -1, stdout: res.stdout ?? '', stderr: res.stderr ?? '' };
}
