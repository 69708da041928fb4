/**
 * One object into one local file, checked: exactly the listed size, the MD5 the store vouches for
 * when it does, and no stall longer than the timeout. A short, long, corrupt or stalled transfer is
 * tried again (withRetries) and never left looking complete: the caller downloads into a temporary
 * folder that becomes a version only when every file passed.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { BucketClient, ObjectInfo } from './bucket.js';
import { RetryableError, withRetries, type RetryPolicy } from './retry.js';

export async function downloadObject(
  client: BucketClient,
  obj: ObjectInfo,
  dest: string,
  policy: RetryPolicy,
): Promise<void> {
  const what = `downloading ${client.scheme}://${client.bucket}/${obj.key}`;
  await withRetries(
    client,
    what,
    policy,
    async () => {
      const stall = new AbortController();
      // Armed before the request: no answer, or no byte for timeoutMs, aborts this attempt.
      const timer = setTimeout(
        () =>
          stall.abort(
            new RetryableError(`${what}: no data for ${policy.timeoutMs} ms (--object-store-timeout-ms)`),
          ),
        policy.timeoutMs,
      );
      try {
        const { body, md5 } = await client.read(obj, stall.signal);
        const hash = createHash('md5');
        let bytes = 0;
        const check = new Transform({
          transform(chunk: Buffer, _enc, done) {
            bytes += chunk.length;
            timer.refresh();
            if (bytes > obj.size) {
              done(
                new RetryableError(
                  `${what}: more than the ${obj.size} bytes listed (replaced while loading?)`,
                ),
              );
              return;
            }
            hash.update(chunk);
            done(null, chunk);
          },
        });
        await pipeline(body, check, createWriteStream(dest), { signal: stall.signal });
        if (bytes !== obj.size) {
          throw new RetryableError(
            `${what}: got ${bytes} of the ${obj.size} bytes listed (connection closed early)`,
          );
        }
        if (md5 !== undefined && hash.digest('hex') !== md5) {
          throw new RetryableError(`${what}: the content does not match its MD5 (corrupted in transfer)`);
        }
      } catch (err) {
        throw stall.signal.aborted && stall.signal.reason instanceof RetryableError
          ? stall.signal.reason
          : err;
      } finally {
        clearTimeout(timer);
      }
    },
    false,
  );
}
