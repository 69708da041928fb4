/**
 * The few calls an object store answers for a repository (list under a prefix, read one object),
 * behind one interface so that the S3 and GCS clients are the only code that knows their SDKs.
 */
import type { Readable } from 'node:stream';

export interface ObjectInfo {
  /** The full key (`prefix/model/1/model.onnx`). */
  key: string;
  /** Bytes, as listed: the download must have exactly this many. */
  size: number;
  /** Hex MD5 the listing gives (GCS `md5Hash`); S3 vouches for it in the download's answer. */
  md5?: string;
  /** The listed object's generation (GCS), so that the download reads exactly what was listed. */
  generation?: string;
  /** Changes whenever the content does (S3 ETag, GCS generation): part of the cache's key. */
  tag?: string;
}

export interface ListPage {
  objects: ObjectInfo[];
  /** With a delimiter: the "folders" one level down (`prefix/model/`). */
  prefixes: string[];
  /** Token of the next page; undefined on the last. */
  next: string | undefined;
}

export interface ObjectBody {
  body: Readable;
  /**
   * Hex MD5 of the content when the store vouches for it (S3: a single-part ETag without KMS
   * encryption; GCS: `md5Hash` of a non-composite object); undefined when it cannot be checked.
   */
  md5: string | undefined;
}

/** Why a call failed, in words a person can act on, and whether trying again may help. */
export interface StoreFailure {
  message: string;
  transient: boolean;
}

export interface BucketClient {
  /** `s3` or `gs`, as in the repository URI. */
  readonly scheme: string;
  readonly bucket: string;
  /** One page of the listing; `delimiter` lists one level (folders as prefixes). */
  listPage(
    prefix: string,
    delimiter: boolean,
    token: string | undefined,
    signal: AbortSignal,
  ): Promise<ListPage>;
  /** Starts reading one object; the body is consumed (or destroyed) by the caller. */
  read(obj: ObjectInfo, signal: AbortSignal): Promise<ObjectBody>;
  /** Turns anything the SDK threw into a StoreFailure; `what` names the call (`listing s3://b/p`). */
  explain(err: unknown, what: string): StoreFailure;
}

/** Errors of the network layer, worth a retry whichever SDK passes them on. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

/** A network-level failure (connection refused or reset, DNS, timeout), or undefined. */
export function networkFailure(err: unknown, what: string): StoreFailure | undefined {
  const e = err as { code?: unknown; name?: unknown; message?: unknown; cause?: unknown };
  const code = typeof e?.code === 'string' ? e.code : undefined;
  const name = typeof e?.name === 'string' ? e.name : '';
  if (code && NETWORK_CODES.has(code)) {
    return { message: `${what} failed: network error ${code} (${String(e.message)})`, transient: true };
  }
  if (name === 'TimeoutError' || name === 'AbortError' || code === 'ABORT_ERR') {
    return { message: `${what} timed out (--object-store-timeout-ms)`, transient: true };
  }
  if (e?.cause && e.cause !== err) return networkFailure(e.cause, what);
  return undefined;
}
