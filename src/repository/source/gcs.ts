/**
 * Google Cloud Storage through `@google-cloud/storage`. Credentials come from Application Default
 * Credentials (GOOGLE_APPLICATION_CREDENTIALS, gcloud's user credentials, the metadata server of
 * Cloud Run, GKE and Vertex AI). `STORAGE_EMULATOR_HOST` points the client at an emulator (the
 * client honours it itself, without credentials).
 */
import { Storage, type File } from '@google-cloud/storage';
import {
  networkFailure,
  type BucketClient,
  type ListPage,
  type ObjectBody,
  type ObjectInfo,
  type StoreFailure,
} from './bucket.js';

export interface GcsOptions {
  bucket: string;
  /** Timeout of one list request (downloads are watched for stalls by the caller instead). */
  timeoutMs: number;
}

interface ListResponse {
  prefixes?: string[];
  nextPageToken?: string;
}

export class GcsBucket implements BucketClient {
  readonly scheme = 'gs';
  readonly bucket: string;
  /** Listing: every request bounded by the timeout. */
  private readonly lister: Storage;
  /**
   * Downloads: the client's timeout would also cut the body of a large model, so none here; the
   * caller aborts a download that stops making progress.
   */
  private readonly reader: Storage;

  constructor(opts: GcsOptions) {
    this.bucket = opts.bucket;
    // Retries are ours (object-store.ts), the same for every store and for broken streams.
    this.lister = new Storage({ timeout: opts.timeoutMs, retryOptions: { autoRetry: false } });
    this.reader = new Storage({ retryOptions: { autoRetry: false } });
  }

  async listPage(
    prefix: string,
    delimiter: boolean,
    token: string | undefined,
    signal: AbortSignal,
  ): Promise<ListPage> {
    signal.throwIfAborted();
    const [files, , raw] = await this.lister.bucket(this.bucket).getFiles({
      prefix,
      autoPaginate: false,
      ...(delimiter ? { delimiter: '/' } : {}),
      ...(token ? { pageToken: token } : {}),
    });
    const res = (raw ?? {}) as ListResponse;
    return {
      objects: files.map((f: File) => ({
        key: f.name,
        size: Number(f.metadata.size ?? 0),
        // Absent for composite objects, which have only a CRC32C.
        ...(typeof f.metadata.md5Hash === 'string'
          ? { md5: Buffer.from(f.metadata.md5Hash, 'base64').toString('hex') }
          : {}),
        ...(f.metadata.generation !== undefined
          ? { generation: String(f.metadata.generation), tag: String(f.metadata.generation) }
          : {}),
      })),
      prefixes: res.prefixes ?? [],
      next: res.nextPageToken,
    };
  }

  read(obj: ObjectInfo, signal: AbortSignal): Promise<ObjectBody> {
    signal.throwIfAborted();
    // The generation listed: a newer upload of the same name cannot slip into this download.
    const file = this.reader
      .bucket(this.bucket)
      .file(obj.key, obj.generation ? { generation: Number(obj.generation) } : {});
    // Checked by the caller against md5Hash and the listed size; the client's own check needs
    // headers an emulator may not send.
    const body = file.createReadStream({ validation: false });
    const abort = (): void => {
      body.destroy(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    };
    signal.addEventListener('abort', abort, { once: true });
    body.once('close', () => signal.removeEventListener('abort', abort));
    return Promise.resolve({ body, md5: obj.md5 });
  }

  explain(err: unknown, what: string): StoreFailure {
    const e = err as { code?: unknown; message?: string };
    const status = typeof e?.code === 'number' ? e.code : undefined;
    const text = e?.message ?? String(err);
    if (status === 404 && /bucket/i.test(text)) {
      return {
        message: `${what}: bucket '${this.bucket}' does not exist; check the bucket in --model-repository`,
        transient: false,
      };
    }
    if (status === 401 || status === 403) {
      return {
        message: `${what}: access denied (${status}: ${text}); check the credentials (GOOGLE_APPLICATION_CREDENTIALS or the service account of the service) and that they hold roles/storage.objectViewer on bucket '${this.bucket}'`,
        transient: false,
      };
    }
    if (/default credentials/i.test(text)) {
      return {
        message: `${what}: no Google Cloud credentials found; set GOOGLE_APPLICATION_CREDENTIALS or run on a service with a service account`,
        transient: false,
      };
    }
    if (status === 404) {
      return {
        message: `${what}: the object is gone (deleted or replaced while the model was loading); load the model again`,
        transient: false,
      };
    }
    const net = networkFailure(err, what);
    if (net) return net;
    if (status !== undefined && (status >= 500 || status === 429)) {
      return { message: `${what}: the store answered ${status} (${text})`, transient: true };
    }
    return { message: `${what}: ${text}`, transient: false };
  }
}
