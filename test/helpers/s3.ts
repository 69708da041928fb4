/**
 * A real S3-compatible server for tests: s3rver (file-backed, on 127.0.0.1, a free port), its
 * dummy account (access key S3RVER; s3rver checks the access key id but not V4 signatures), and
 * an S3 client of the official SDK to upload with.
 *
 * `cutProxy` puts an HTTP proxy in front of it that closes the connection in the middle of chosen
 * downloads, so that a network failure during a model's download can be tested.
 */
import { DeleteBucketCommand, DeleteObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';

export const S3_KEY = 'S3RVER';

export interface S3Fixture {
  endpoint: string;
  client: S3Client;
  put(bucket: string, key: string, body: Uint8Array | string): Promise<void>;
  remove(bucket: string, key: string): Promise<void>;
  removeBucket(bucket: string): Promise<void>;
  close(): Promise<void>;
}

export async function startS3(buckets: string[]): Promise<S3Fixture> {
  const directory = mkdtempSync(join(tmpdir(), 'inferd-s3rver-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    directory,
    silent: true,
    configureBuckets: buckets.map((name) => ({ name })),
  });
  const addr = await server.run();
  const endpoint = `http://127.0.0.1:${addr.port}`;
  const client = new S3Client({
    endpoint,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: { accessKeyId: S3_KEY, secretAccessKey: S3_KEY },
    // s3rver predates the SDK's default CRC32 trailers (aws-chunked uploads); plain bodies here.
    requestChecksumCalculation: 'WHEN_REQUIRED',
  });
  return {
    endpoint,
    client,
    put: async (bucket, key, body) => {
      const bytes = typeof body === 'string' ? Buffer.from(body) : body;
      await client.send(
        new PutObjectCommand({ Bucket: bucket, Key: key, Body: bytes, ContentLength: bytes.length }),
      );
    },
    remove: async (bucket, key) => {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    },
    removeBucket: async (bucket) => {
      await client.send(new DeleteBucketCommand({ Bucket: bucket }));
    },
    close: async () => {
      client.destroy();
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

export interface CutProxy {
  endpoint: string;
  /**
   * Downloads (GET of an object) whose path contains this are cut after half their body (the
   * connection closed), or with `stall` left open and silent after it...
   */
  cut: { pathPart: string; times: number; stall?: boolean } | undefined;
  /** ...and counted here. */
  cuts: number;
  /** Object downloads (GETs that are not listings) passed through, cut or not. */
  downloads: number;
  close(): Promise<void>;
}

/** An HTTP proxy to `target` that cuts chosen downloads mid-body (then closes the connection). */
export async function cutProxy(target: string): Promise<CutProxy> {
  const up = new URL(target);
  const state: CutProxy = {
    endpoint: '',
    cut: undefined,
    cuts: 0,
    downloads: 0,
    close: async () => undefined,
  };
  const server: Server = createServer((req, res) => {
    const upstream = request(
      { host: up.hostname, port: up.port, path: req.url, method: req.method, headers: req.headers },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        const c = state.cut;
        const isDownload = req.method === 'GET' && !req.url!.includes('list-type');
        if (isDownload) state.downloads += 1;
        if (!c || c.times <= 0 || !isDownload || !req.url!.includes(c.pathPart)) {
          upRes.pipe(res);
          return;
        }
        c.times -= 1;
        state.cuts += 1;
        // Headers and the first half of the body reach the client, then the connection drops.
        const half = Math.floor(Number(upRes.headers['content-length'] ?? 0) / 2);
        let sent = 0;
        let cutting = false;
        upRes.on('data', (chunk: Buffer) => {
          if (cutting) return;
          const part = chunk.subarray(0, Math.max(0, half - sent));
          sent += chunk.length;
          if (sent < half) {
            res.write(part);
            return;
          }
          cutting = true;
          upRes.destroy();
          if (c.stall) res.write(part);
          else res.write(part, () => setTimeout(() => res.socket?.destroy(), 20));
        });
      },
    );
    upstream.on('error', () => res.socket?.destroy());
    req.pipe(upstream);
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
