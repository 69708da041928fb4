/**
 * HTTP content codings (RFC 9110 §8.4) on request and response bodies: `gzip` and `deflate`, the
 * two that Triton's HTTP clients send (tritonclient.http `request_compression_algorithm` /
 * `response_compression_algorithm`: gzip.compress / zlib.compress, `Accept-Encoding: gzip`).
 *
 * Request bodies are decompressed with a hard bound on the output: zlib stops at `maxBytes`
 * (maxOutputLength) instead of inflating a decompression bomb (1 MiB of gzip can hold 1 GiB of
 * zeros) and checking afterwards. The decompressed body is what every decoder sees, so the binary
 * extension's Inference-Header-Content-Length counts uncompressed bytes, as in Triton.
 * Decompression and compression run on libuv's thread pool (zlib's async API), not on the event
 * loop.
 */
import { promisify } from 'node:util';
import { constants, deflate, gzip, gunzip, inflate } from 'node:zlib';
import { clip } from '../../core/clip.js';
import { InferdError } from '../../errors.js';

const gunzipAsync = promisify(gunzip);
const inflateAsync = promisify(inflate);
const gzipAsync = promisify(gzip);
const deflateAsync = promisify(deflate);

export type Coding = 'gzip' | 'deflate';

/** `x-gzip` is gzip (RFC 9110 §8.4.1.3); `identity` (or no header) is no coding at all. */
function requestCoding(header: string | string[] | undefined): Coding | undefined {
  if (header === undefined) return undefined;
  const value = (Array.isArray(header) ? header.join(',') : header).trim().toLowerCase();
  if (value === '' || value === 'identity') return undefined;
  if (value === 'gzip' || value === 'x-gzip') return 'gzip';
  if (value === 'deflate') return 'deflate';
  // Triton's words and its Accept-Encoding answer (http_server.cc DecompressBuffer); 415 is
  // RFC 9110's status for a content coding the server does not support (§15.5.16).
  throw new InferdError(
    'unsupported_media_type',
    `Unsupported compression type: Content-Encoding '${clip(value, 64)}'; send the body uncompressed, gzip or deflate`,
    { headers: { 'accept-encoding': 'gzip, deflate' } },
  );
}

/**
 * The request body with its content coding removed: the body itself when it has none. Throws
 * payload_too_large when the decompressed body would exceed `maxBytes` (nothing beyond it is
 * inflated), unsupported_media_type for another coding, invalid_request for a corrupt stream.
 */
export async function decodeRequestBody(
  header: string | string[] | undefined,
  body: Buffer,
  maxBytes: number,
  tooLarge: () => InferdError,
): Promise<Buffer> {
  const coding = requestCoding(header);
  if (coding === undefined) return body;
  const options = { maxOutputLength: Math.max(1, maxBytes) };
  try {
    return coding === 'gzip' ? await gunzipAsync(body, options) : await inflateAsync(body, options);
  } catch (err) {
    // zlib ends with ERR_BUFFER_TOO_LARGE once the output reaches maxOutputLength.
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      const e = tooLarge();
      throw new InferdError(e.code, `${e.message}, counted after ${coding} decompression`, {
        headers: e.headers,
      });
    }
    throw new InferdError(
      'invalid_request',
      `the request body is not valid ${coding} (Content-Encoding: ${coding}): ${clip((err as Error).message, 200)}`,
    );
  }
}

/**
 * The coding to answer in, from Accept-Encoding: gzip or deflate when the client accepts it (a
 * q-value of 0 refuses it), gzip first as the better-supported; undefined = uncompressed.
 */
export function responseCoding(header: string | string[] | undefined): Coding | undefined {
  if (header === undefined) return undefined;
  const accepted = new Map<string, number>();
  const value = Array.isArray(header) ? header.join(',') : header;
  for (const part of value.slice(0, 1024).split(',')) {
    const [name, ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    if (!name) continue;
    const q = params.find((p) => p.startsWith('q='));
    accepted.set(name, q === undefined ? 1 : Number(q.slice(2)) || 0);
  }
  const wants = (c: string): boolean => (accepted.get(c) ?? accepted.get('*') ?? 0) > 0;
  if (wants('gzip')) return 'gzip';
  if (wants('deflate')) return 'deflate';
  return undefined;
}

/** Compresses a response body at zlib's default level, as Triton (data_compressor.h). */
export async function encodeResponseBody(coding: Coding, body: string | Uint8Array): Promise<Buffer> {
  const options = { level: constants.Z_DEFAULT_COMPRESSION };
  return coding === 'gzip' ? gzipAsync(body, options) : deflateAsync(body, options);
}
