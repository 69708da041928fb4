/**
 * The benchmark's server process: builds a repository with one 1×3×224×224 FP32 model (`image`,
 * y = Identity(x), so the numbers measure transport cost, not compute), serves it on free ports and
 * prints {httpUrl, grpcUrl} as one JSON line. Runs apart from the load generator so that client
 * encoding does not steal the server's event loop.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadSettings } from '../../src/config.js';
import { buildModel } from '../../src/training/graph-builder.js';
import { startServer } from '../../src/server.js';

export const IMAGE_SHAPE = [1, 3, 224, 224];

function writeRepository(): string {
  const root = mkdtempSync(join(tmpdir(), 'inferd-bench-'));
  mkdirSync(join(root, 'image', '1'), { recursive: true });
  const model = buildModel({
    inputs: [{ name: 'x', type: 'FLOAT', shape: ['N', 3, 224, 224] }],
    outputs: [{ name: 'y', type: 'FLOAT', shape: ['N', 3, 224, 224] }],
    nodes: [{ op: 'Identity', inputs: ['x'], outputs: ['y'] }],
  });
  writeFileSync(join(root, 'image', '1', 'model.onnx'), model);
  // No dynamic batching: one request = one execution, so the transports are compared like for like.
  writeFileSync(join(root, 'image', 'config.json'), JSON.stringify({ max_batch_size: 16 }));
  return root;
}

async function main(): Promise<void> {
  const repo = writeRepository();
  const settings = loadSettings(
    { modelRepository: repo, host: '127.0.0.1', httpPort: 0, grpcPort: 0, logLevel: 'silent' },
    {},
  );
  const server = await startServer(settings, { logger: pino({ level: 'silent' }) });
  process.stdout.write(JSON.stringify({ httpUrl: server.httpUrl, grpcUrl: server.grpcUrl }) + '\n');
  const stop = (): void => {
    void server.close().finally(() => {
      rmSync(repo, { recursive: true, force: true });
      process.exit(0);
    });
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (process.argv[1]?.endsWith('server.js')) void main();
