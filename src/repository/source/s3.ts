/**
 * Amazon S3 and S3-compatible stores (MinIO, Ceph, R2, s3rver) through `@aws-sdk/client-s3` v3.
 * Credentials come from the SDK's default chain (environment, shared profile, web identity, ECS
 * task role, EC2 instance profile). A custom endpoint (`--s3-endpoint`, `AWS_ENDPOINT_URL_S3`,
 * `AWS_ENDPOINT_URL`) switches to path-style addressing, which S3-compatible stores expect.
 */
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import {
  networkFailure,
  type BucketClient,
  type ListPage,
  type ObjectBody,
  type ObjectInfo,
  type StoreFailure,
} from './bucket.js';

export interface S3Options {
  bucket: string;
  endpoint: string | undefined;
  /** Connection and socket-idle timeout of one request. */
  timeoutMs: number;
}

/** Error names S3 answers for credentials that are missing, wrong or not allowed. */
const DENIED = new Set([
  'AccessDenied',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'InvalidToken',
  'TokenRefreshRequired',
  'AllAccessDisabled',
]);

/** An S3 ETag is the content's MD5 only for a single-part upload without KMS or customer keys. */
function etagMd5(
  etag: string | undefined,
  sse: string | undefined,
  sseCustomer: string | undefined,
): string | undefined {
  const hex = etag?.replace(/"/g, '').toLowerCase();
  if (!hex || !/^[0-9a-f]{32}$/.test(hex)) return undefined;
  if (sse?.startsWith('aws:kms') || sseCustomer) return undefined;
  return hex;
}

export class S3Bucket implements BucketClient {
  readonly scheme = 's3';
  readonly bucket: string;
  private readonly client: S3Client;
  private readonly endpoint: string | undefined;

  constructor(opts: S3Options) {
    this.bucket = opts.bucket;
    this.endpoint = opts.endpoint;
    this.client = new S3Client({
      // A region is required to sign; the bucket's own is found by following S3's redirect.
      region: process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || 'us-east-1',
      followRegionRedirects: true,
      ...(opts.endpoint ? { endpoint: opts.endpoint, forcePathStyle: true } : {}),
      // Retries are ours (object-store.ts), the same for every store and for broken streams.
      maxAttempts: 1,
      requestHandler: { connectionTimeout: opts.timeoutMs, requestTimeout: opts.timeoutMs },
    });
  }

  async listPage(
    prefix: string,
    delimiter: boolean,
    token: string | undefined,
    signal: AbortSignal,
  ): Promise<ListPage> {
    const res = await this.client.send(
      new ListObjectsV2Command({
        Bucket: this.bucket,
        Prefix: prefix,
        ...(delimiter ? { Delimiter: '/' } : {}),
        ...(token ? { ContinuationToken: token } : {}),
      }),
      { abortSignal: signal },
    );
    return {
      objects: (res.Contents ?? []).map((o) => ({
        key: o.Key ?? '',
        size: o.Size ?? 0,
        ...(o.ETag ? { tag: o.ETag } : {}),
      })),
      prefixes: (res.CommonPrefixes ?? []).map((p) => p.Prefix ?? ''),
      next: res.IsTruncated ? res.NextContinuationToken : undefined,
    };
  }

  async read(obj: ObjectInfo, signal: AbortSignal): Promise<ObjectBody> {
    const key = obj.key;
    const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }), {
      abortSignal: signal,
    });
    if (!(res.Body instanceof Readable)) throw new Error(`s3://${this.bucket}/${key}: no body in the answer`);
    return { body: res.Body, md5: etagMd5(res.ETag, res.ServerSideEncryption, res.SSECustomerAlgorithm) };
  }

  explain(err: unknown, what: string): StoreFailure {
    const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
    const status = e?.$metadata?.httpStatusCode;
    const name = e?.name ?? '';
    const where = this.endpoint ? ` at ${this.endpoint}` : '';
    if (name === 'NoSuchBucket') {
      return {
        message: `${what}: bucket '${this.bucket}' does not exist${where}; check the bucket in --model-repository`,
        transient: false,
      };
    }
    if (DENIED.has(name) || status === 403 || status === 401) {
      return {
        message: `${what}: access denied (${name || status}); check the AWS credentials (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE or the task/instance role) and that they allow s3:ListBucket and s3:GetObject on bucket '${this.bucket}'`,
        transient: false,
      };
    }
    if (name === 'CredentialsProviderError') {
      return {
        message: `${what}: no AWS credentials found (${e.message}); set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE, or give the task/instance a role`,
        transient: false,
      };
    }
    if (name === 'NoSuchKey' || status === 404) {
      return {
        message: `${what}: the object is gone (deleted or replaced while the model was loading); load the model again`,
        transient: false,
      };
    }
    const net = networkFailure(err, `${what}${where}`);
    if (net) return net;
    if (status !== undefined && (status >= 500 || status === 429)) {
      return { message: `${what}: the store answered ${status} ${name}`, transient: true };
    }
    return { message: `${what}: ${name ? `${name}: ` : ''}${e?.message ?? String(err)}`, transient: false };
  }
}
