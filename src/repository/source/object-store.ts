/**
 * A model repository in an object store bucket, in the local folder's layout under a prefix:
 *   <prefix>/<model>/config.json, <prefix>/<model>/<version>/model.onnx, …
 * Each load lists the model's folder again. A version is downloaded into the cache once per
 * content (the cache key holds every file's key, size and ETag/generation) into a temporary folder
 * renamed into place only when every file is complete and checked, so a half download is never a
 * version; the loaded version reads its files from the cache.
 *
 * Cache layout: <cacheDir>/<hash of the URI>/<model>/<version>-<content key>/{config.json, …, <version>/…}
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ConfigSection } from '../../core/model-config.js';
import { InferdError } from '../../errors.js';
import { publicReason } from '../public-reason.js';
import type { ModelSnapshot, RepositorySource } from '../repository-source.js';
import { isModelName } from '../scan.js';
import { CONFIG_FILES, MAX_CONFIG_BYTES, parseConfigFile, pickConfigFile } from '../config-file.js';
import type { BucketClient, ObjectInfo } from './bucket.js';
import { downloadObject } from './download.js';
import { withRetries, type RetryPolicy } from './retry.js';

export interface ObjectStoreLimits {
  /** Most objects (and folders) one listing may return: the repository's models, or one model's files. */
  maxObjects: number;
  /** Most bytes one version may download (its model's own files plus the version folder). */
  maxModelBytes: number;
  retry: RetryPolicy;
}

const VERSION = /^\d+$/;

/** A key relative to the model folder that is safe as a relative path (no `..`, no empty segment). */
function safeRelative(rel: string): boolean {
  return rel.split('/').every((s) => s !== '' && s !== '.' && s !== '..' && !s.includes('\\'));
}

export class ObjectStoreSource implements RepositorySource {
  readonly location: string;
  /** `prefix/` or '' for the bucket's root. */
  private readonly base: string;
  private readonly cacheDir: string;
  /** Snapshot folder → the model folder's URI, for reasons (publicText). */
  private readonly snapshots = new Map<string, string>();

  constructor(
    private readonly client: BucketClient,
    prefix: string,
    cacheRoot: string,
    private readonly limits: ObjectStoreLimits,
  ) {
    const trimmed = prefix.replace(/^\/+|\/+$/g, '');
    this.base = trimmed ? `${trimmed}/` : '';
    this.location = `${client.scheme}://${client.bucket}/${trimmed}`;
    const id = createHash('sha256').update(this.location).digest('hex').slice(0, 16);
    this.cacheDir = join(cacheRoot, id);
  }

  private uri(key: string): string {
    return `${this.client.scheme}://${this.client.bucket}/${key}`;
  }

  /** Every page of one listing, bounded by maxObjects. */
  private async list(
    prefix: string,
    delimiter: boolean,
  ): Promise<{ objects: ObjectInfo[]; prefixes: string[] }> {
    const what = `listing ${this.uri(prefix)}`;
    const objects: ObjectInfo[] = [];
    const prefixes: string[] = [];
    let token: string | undefined;
    do {
      const page = await withRetries(this.client, what, this.limits.retry, (signal) =>
        this.client.listPage(prefix, delimiter, token, signal),
      );
      objects.push(...page.objects);
      prefixes.push(...page.prefixes);
      if (objects.length + prefixes.length > this.limits.maxObjects) {
        throw new InferdError(
          'invalid_config',
          `${what}: more than ${this.limits.maxObjects} objects (--max-repository-objects); point --model-repository at the repository's own prefix or raise the limit`,
        );
      }
      token = page.next;
    } while (token);
    return { objects, prefixes };
  }

  async listModelNames(): Promise<string[]> {
    const { prefixes } = await this.list(this.base, true);
    return prefixes
      .map((p) => p.slice(this.base.length).replace(/\/$/, ''))
      .filter(isModelName)
      .sort();
  }

  async modelExists(name: string): Promise<boolean> {
    if (!isModelName(name)) return false;
    const prefix = `${this.base}${name}/`;
    const page = await withRetries(this.client, `listing ${this.uri(prefix)}`, this.limits.retry, (signal) =>
      this.client.listPage(prefix, false, undefined, signal),
    );
    return page.objects.length > 0;
  }

  async openModel(name: string, sections: readonly ConfigSection[]): Promise<ModelSnapshot> {
    const folder = `${this.base}${name}/`;
    const { objects } = await this.list(folder, false);
    // Folder markers (`name/1/`, size 0) and keys that would escape the model folder are not files.
    const files = objects
      .map((o) => ({ ...o, rel: o.key.slice(folder.length) }))
      .filter((o) => o.key.startsWith(folder) && safeRelative(o.rel));
    const versionOf = (rel: string): string | undefined => {
      const first = rel.split('/')[0]!;
      return rel.includes('/') && VERSION.test(first) ? first : undefined;
    };
    const modelFiles = files.filter((f) => versionOf(f.rel) === undefined);
    const versions = [...new Set(files.flatMap((f) => versionOf(f.rel) ?? []))]
      .map(Number)
      .sort((a, b) => a - b);
    const present = CONFIG_FILES.filter((n) => modelFiles.some((f) => f.rel === n));
    const configName = pickConfigFile(name, present);
    const configObj = modelFiles.find((f) => f.rel === configName);
    const config = parseConfigFile(
      configObj && configName ? { name: configName, text: await this.readText(configObj) } : undefined,
      name,
      sections,
    );
    await this.forgetVersionsNotIn(name, versions);
    return {
      config,
      versions,
      fetchVersion: (v) =>
        this.materialise(name, v, [...modelFiles, ...files.filter((f) => versionOf(f.rel) === String(v))]),
    };
  }

  private async readText(obj: ObjectInfo): Promise<string> {
    if (obj.size > MAX_CONFIG_BYTES) {
      throw new InferdError(
        'invalid_config',
        `${this.uri(obj.key)} is ${obj.size} bytes; a config file may have at most ${MAX_CONFIG_BYTES}`,
      );
    }
    return withRetries(this.client, `reading ${this.uri(obj.key)}`, this.limits.retry, async (signal) => {
      const { body } = await this.client.read(obj, signal);
      const chunks: Buffer[] = [];
      let bytes = 0;
      for await (const chunk of body as AsyncIterable<Buffer>) {
        bytes += chunk.length;
        if (bytes > MAX_CONFIG_BYTES) {
          body.destroy();
          throw new InferdError('invalid_config', `${this.uri(obj.key)} is over ${MAX_CONFIG_BYTES} bytes`);
        }
        chunks.push(chunk);
      }
      return Buffer.concat(chunks).toString('utf8');
    });
  }

  /** The local folder of version `v`: from the cache when this content is there, else downloaded. */
  private async materialise(
    name: string,
    v: number,
    files: Array<ObjectInfo & { rel: string }>,
  ): Promise<string> {
    const folder = `${this.base}${name}/`;
    const total = files.reduce((n, f) => n + f.size, 0);
    if (total > this.limits.maxModelBytes) {
      throw new InferdError(
        'invalid_config',
        `${this.uri(folder)}: version ${v} and the model's own files are ${total} bytes in ${files.length} objects, over --max-model-bytes (${this.limits.maxModelBytes}); raise it or remove files`,
      );
    }
    const key = createHash('sha256')
      .update(
        files
          .map((f) => `${f.rel}\t${f.size}\t${f.tag ?? ''}\t${f.md5 ?? ''}`)
          .sort()
          .join('\n'),
      )
      .digest('hex')
      .slice(0, 16);
    const modelCache = join(this.cacheDir, name);
    const final = join(modelCache, `${v}-${key}`);
    this.snapshots.set(final, this.uri(folder).replace(/\/$/, ''));
    if (!(await isDir(final))) {
      await mkdir(modelCache, { recursive: true });
      await removeAbandoned(modelCache);
      const tmp = join(modelCache, `.tmp-${process.pid}-${v}-${randomBytes(4).toString('hex')}`);
      try {
        for (const f of files) {
          const dest = join(tmp, f.rel);
          await mkdir(dirname(dest), { recursive: true });
          await downloadObject(this.client, f, dest, this.limits.retry);
        }
        await mkdir(tmp, { recursive: true });
        await rename(tmp, final).catch(async (err: NodeJS.ErrnoException) => {
          // Another load of the same content finished first: its copy is as good.
          if (!(await isDir(final))) throw err;
        });
      } finally {
        await rm(tmp, { recursive: true, force: true });
      }
    }
    // Earlier contents of this version: loaded versions hold their models in memory, not these files.
    for (const entry of await readdir(modelCache)) {
      if (entry.startsWith(`${v}-`) && join(modelCache, entry) !== final) {
        this.snapshots.delete(join(modelCache, entry));
        await rm(join(modelCache, entry), { recursive: true, force: true });
      }
    }
    return join(final, String(v));
  }

  /** Cached versions the bucket no longer has are removed. */
  private async forgetVersionsNotIn(name: string, versions: number[]): Promise<void> {
    const keep = new Set(versions.map(String));
    let entries: string[];
    try {
      entries = await readdir(join(this.cacheDir, name));
    } catch {
      return;
    }
    for (const entry of entries) {
      const m = /^(\d+)-/.exec(entry);
      if (m && !keep.has(m[1]!)) {
        this.snapshots.delete(join(this.cacheDir, name, entry));
        await rm(join(this.cacheDir, name, entry), { recursive: true, force: true });
      }
    }
  }

  publicText(text: string): string {
    let out = text;
    for (const [dir, uri] of this.snapshots) out = out.split(dir).join(uri);
    return publicReason(out, this.cacheDir);
  }
}

async function isDir(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** Temporary folders of processes that died mid-download (`.tmp-<pid>-…`). */
async function removeAbandoned(modelCache: string): Promise<void> {
  for (const entry of await readdir(modelCache)) {
    const m = /^\.tmp-(\d+)-/.exec(entry);
    if (!m || Number(m[1]) === process.pid) continue;
    let alive = true;
    try {
      process.kill(Number(m[1]), 0);
    } catch (err) {
      alive = (err as NodeJS.ErrnoException).code === 'EPERM';
    }
    if (!alive) await rm(join(modelCache, entry), { recursive: true, force: true });
  }
}
