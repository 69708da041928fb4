/**
 * The platform contract tests run the real CLI as the platform does (`inferd serve`, its port and
 * routes from the platform's own environment variables, no --http-port), over small repositories:
 * a tabular model, the fixture spam detector, and the embedded OCR models.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildModel } from '../../src/training/graph-builder.js';
import { SPAM_SIGNATURE, spamModel } from '../api/fixtures.js';
import { REPO } from '../ocr/helpers/ort-invoker.js';
import { layout, renderRaw } from '../ocr/helpers/render.js';

/** score = x · [1, 2, 3, 4] over FP32 [N, 4] → [N, 1]: a tabular model whose answers are easy to check. */
function tabularModel(): Uint8Array {
  return buildModel({
    inputs: [{ name: 'x', type: 'FLOAT', shape: ['N', 4] }],
    outputs: [{ name: 'score', type: 'FLOAT', shape: ['N', 1] }],
    initializers: [{ name: 'w', type: 'FLOAT', dims: [4, 1], values: [1, 2, 3, 4] }],
    nodes: [{ op: 'MatMul', inputs: ['x', 'w'], outputs: ['score'] }],
  });
}

/** The expected score of one row. */
export const tabularScore = (row: readonly number[]): number => row.reduce((s, v, i) => s + v * (i + 1), 0);

function write(root: string, name: string, bytes: Uint8Array, config: object): void {
  mkdirSync(join(root, name, '1'), { recursive: true });
  writeFileSync(join(root, name, '1', 'model.onnx'), bytes);
  writeFileSync(join(root, name, 'config.json'), JSON.stringify(config, null, 2));
}

/** A temporary repository with the chosen models (`ocr` brings ocr-det, ocr-cls and ocr-rec). */
export function makePlatformRepository(models: ReadonlyArray<'tabular' | 'spam' | 'ocr'>): string {
  const root = mkdtempSync(join(tmpdir(), 'inferd-platform-repo-'));
  if (models.includes('tabular')) {
    write(root, 'tabular', tabularModel(), { max_batch_size: 64 });
  }
  if (models.includes('spam')) {
    write(root, 'spam', spamModel(), { max_batch_size: 64, signature: SPAM_SIGNATURE });
  }
  if (models.includes('ocr')) {
    for (const name of ['ocr', 'ocr-det', 'ocr-cls', 'ocr-rec']) {
      cpSync(join(REPO, name), join(root, name), { recursive: true });
    }
  }
  return root;
}

/** One line of text rendered as PNG or JPEG, for the OCR model. */
export async function textImage(text: string, format: 'png' | 'jpeg'): Promise<Buffer> {
  const img = await renderRaw(520, 120, layout([text], 'DejaVu Sans', 32));
  return format === 'png' ? img.png().toBuffer() : img.jpeg({ quality: 92 }).toBuffer();
}

export interface PlatformServer {
  proc: ChildProcess;
  url: string;
  stderr: () => string;
  /** Kills the process if it still runs and removes its data directory. */
  stop(): Promise<void>;
}

/**
 * `node bin/inferd.js <args>` with `env` added to this process's environment (INFERD_* variables of
 * the test runner's own are removed first), ready when `readyPath` answers 200 on `port`.
 */
export async function spawnPlatformServer(
  args: string[],
  env: Record<string, string>,
  port: number,
  readyPath: string,
): Promise<PlatformServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'inferd-data-'));
  const base = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) =>
        !k.startsWith('INFERD_') && !k.startsWith('AIP_') && !k.startsWith('SAGEMAKER_') && k !== 'PORT',
    ),
  );
  const proc = spawn(process.execPath, ['bin/inferd.js', ...args], {
    env: {
      ...base,
      INFERD_LOG_LEVEL: 'warn',
      INFERD_HOST: '127.0.0.1',
      INFERD_GRPC_PORT: '0',
      INFERD_DATA_DIR: dataDir,
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGKILL');
      await new Promise((r) => proc.once('exit', r));
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  for (let i = 0; i < 1200; i++) {
    if (proc.exitCode !== null) {
      await stop();
      throw new Error(`inferd exited with ${proc.exitCode}: ${err}`);
    }
    try {
      if ((await fetch(url + readyPath)).status === 200) return { proc, url, stderr: () => err, stop };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  await stop();
  throw new Error(`inferd did not become ready on ${url}${readyPath}: ${err}`);
}

export async function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
