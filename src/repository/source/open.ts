/**
 * `--model-repository` → its source: `s3://bucket/prefix`, `gs://bucket/prefix`, or a local folder
 * (anything else, as before).
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InferdError } from '../../errors.js';
import type { BucketClient } from './bucket.js';
import { LocalSource } from './local.js';
import { ObjectStoreSource } from './object-store.js';
import type { RepositorySource } from '../repository-source.js';

export interface SourceSettings {
  modelRepository: string;
  /** A local folder that is one model's folder is served under this name (KServe, local.ts). */
  modelName?: string | undefined;
  /** Unset: `<os.tmpdir()>/inferd-model-cache`. */
  modelCacheDir?: string | undefined;
  s3Endpoint?: string | undefined;
  maxRepositoryObjects: number;
  maxModelBytes: number;
  objectStoreTimeoutMs: number;
  objectStoreRetries: number;
}

/** Triton's URI forms; `gs://` and `s3://` only (no `gcs://`, which neither tool writes). */
const OBJECT_URI = /^(s3|gs):\/\/([^/]*)(?:\/(.*))?$/;

/**
 * Each SDK is imported only for its own scheme: loading them took 1.5 s (S3) and 2.4 s (GCS) and
 * about 65 MB of RSS each on the 2-core test machine under load, which a server of a local folder
 * should not pay.
 */
export async function openRepository(s: SourceSettings): Promise<RepositorySource> {
  const m = OBJECT_URI.exec(s.modelRepository);
  if (!m) return new LocalSource(s.modelRepository, s.modelName);
  if (s.modelName !== undefined) {
    throw new InferdError(
      'invalid_config',
      `--model-name '${s.modelName}' names the model of a local folder (KServe's /mnt/models); a repository in object storage is served by its folder names: leave --model-name unset`,
    );
  }
  const [, scheme, bucket, prefix = ''] = m as unknown as [string, 's3' | 'gs', string, string | undefined];
  // Bucket names: 3–63 characters of lower case, digits, dots and dashes (S3 and GCS alike; GCS
  // allows underscores too).
  if (!/^[a-z0-9][a-z0-9._-]{1,221}[a-z0-9]$/.test(bucket)) {
    throw new InferdError(
      'invalid_config',
      `--model-repository '${s.modelRepository}': '${bucket}' is not a bucket name; expected ${scheme}://bucket/prefix`,
    );
  }
  const client: BucketClient =
    scheme === 's3'
      ? new (await import('./s3.js')).S3Bucket({
          bucket,
          endpoint: s.s3Endpoint,
          timeoutMs: s.objectStoreTimeoutMs,
        })
      : new (await import('./gcs.js')).GcsBucket({ bucket, timeoutMs: s.objectStoreTimeoutMs });
  return new ObjectStoreSource(client, prefix, s.modelCacheDir ?? join(tmpdir(), 'inferd-model-cache'), {
    maxObjects: s.maxRepositoryObjects,
    maxModelBytes: s.maxModelBytes,
    retry: { attempts: s.objectStoreRetries + 1, baseDelayMs: 200, timeoutMs: s.objectStoreTimeoutMs },
  });
}
