/**
 * A local stand-in for Google Cloud Storage's JSON API, serving a folder (`<root>/<bucket>/<key>`):
 * no emulator of GCS is published on npm or in Debian (fake-gcs-server is a Go program), so this
 * answers the calls `@google-cloud/storage` makes to read a repository, as the API documents them:
 *   GET [/storage/v1]/b/{bucket}/o?prefix=&delimiter=&pageToken=&maxResults=   (objects.list)
 *   GET [/storage/v1]/b/{bucket}/o/{object}?alt=media[&generation=]            (objects.get, media)
 *   GET [/storage/v1]/b/{bucket}/o/{object}                                    (objects.get, metadata)
 * The client is pointed here with STORAGE_EMULATOR_HOST. Pages are small (`pageSize`) so that
 * paging is exercised; `corrupt` keys are served with one byte changed (same size, wrong MD5).
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, relative, sep } from 'node:path';

export interface FakeGcs {
  endpoint: string;
  /** Every request's path and query, in order. */
  requests: string[];
  corrupt: Set<string>;
  close(): Promise<void>;
}

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(p));
    else out.push(p);
  }
  return out;
}

function metadata(bucket: string, key: string, file: string): Record<string, unknown> {
  const st = statSync(file);
  const generation = String(Math.floor(st.mtimeMs * 1000));
  return {
    kind: 'storage#object',
    id: `${bucket}/${key}/${generation}`,
    name: key,
    bucket,
    generation,
    size: String(st.size),
    md5Hash: createHash('md5').update(readFileSync(file)).digest('base64'),
    contentType: 'application/octet-stream',
  };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' });
  res.end(JSON.stringify(body));
}

const notFound = (res: ServerResponse, message: string): void =>
  json(res, 404, { error: { code: 404, message, errors: [{ message, reason: 'notFound' }] } });

export async function startFakeGcs(root: string, pageSize = 2): Promise<FakeGcs> {
  const state: FakeGcs = { endpoint: '', requests: [], corrupt: new Set(), close: async () => undefined };
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    state.requests.push(url.pathname + url.search);
    const m = /^(?:\/download)?(?:\/storage\/v1)?\/b\/([^/]+)\/o(?:\/(.+))?$/.exec(url.pathname);
    if (req.method !== 'GET' || !m)
      return json(res, 400, { error: { code: 400, message: 'not served here' } });
    const bucket = decodeURIComponent(m[1]!);
    const bucketDir = join(root, bucket);
    if (!existsSync(bucketDir)) return notFound(res, 'The specified bucket does not exist.');
    if (m[2] === undefined) {
      // objects.list: objects and (with a delimiter) prefixes, in key order, one page at a time.
      const prefix = url.searchParams.get('prefix') ?? '';
      const delimiter = url.searchParams.get('delimiter') ?? '';
      const keys = walk(bucketDir)
        .map((f) => relative(bucketDir, f).split(sep).join('/'))
        .filter((k) => k.startsWith(prefix))
        .sort();
      const entries: Array<{ key: string; folder: boolean }> = [];
      const seen = new Set<string>();
      for (const key of keys) {
        const cut = delimiter ? key.indexOf(delimiter, prefix.length) : -1;
        if (cut < 0) entries.push({ key, folder: false });
        else if (!seen.has(key.slice(0, cut + 1))) {
          seen.add(key.slice(0, cut + 1));
          entries.push({ key: key.slice(0, cut + 1), folder: true });
        }
      }
      const start = Number(url.searchParams.get('pageToken') ?? 0);
      const size = Math.min(pageSize, Number(url.searchParams.get('maxResults') ?? pageSize));
      const page = entries.slice(start, start + size);
      const items = page.filter((e) => !e.folder).map((e) => metadata(bucket, e.key, join(bucketDir, e.key)));
      const prefixes = page.filter((e) => e.folder).map((e) => e.key);
      return json(res, 200, {
        kind: 'storage#objects',
        ...(items.length ? { items } : {}),
        ...(prefixes.length ? { prefixes } : {}),
        ...(start + size < entries.length ? { nextPageToken: String(start + size) } : {}),
      });
    }
    const key = decodeURIComponent(m[2]);
    const file = join(bucketDir, ...key.split('/'));
    if (key.split('/').includes('..') || !existsSync(file))
      return notFound(res, `No such object: ${bucket}/${key}`);
    const meta = metadata(bucket, key, file);
    const generation = url.searchParams.get('generation');
    if (generation && generation !== meta.generation)
      return notFound(res, `No such object: ${bucket}/${key}`);
    if (url.searchParams.get('alt') !== 'media') return json(res, 200, meta);
    const bytes = readFileSync(file);
    if (state.corrupt.has(key) && bytes.length > 0) bytes[bytes.length - 1] ^= 0xff;
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bytes.length });
    res.end(bytes);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}
