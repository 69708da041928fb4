/**
 * Runs Triton's own Python example clients (triton-inference-server/client, src/python/examples,
 * unchanged) against inferd serving ONNX equivalents of their models, and prints a Markdown table:
 * example, protocol, result, first error line. The acceptance check of issue #18.
 *
 *   npm run triton:examples -- [examples-dir]
 *
 * Settings (environment):
 *   TRITON_EXAMPLES_DIR   the examples folder (or the first argument)
 *   TRITON_PYTHONPATH     a folder where `import tritonclient` works (the client library with its
 *                         generated gRPC stubs); see bench/results/triton-examples.md for the setup
 *   TRITON_PYTHON         the interpreter (default python3) with numpy, grpcio, geventhttpclient,
 *                         rapidjson, gevent, packaging, aiohttp and PIL importable
 *   TRITON_EXAMPLES_ONLY  run only the examples whose file name contains this substring
 *   TRITON_EXAMPLES_OUT   also write the table to this file
 *   TRITON_INFERD_BIN     the inferd to test (default bin/inferd.js of this checkout), e.g. another
 *                         build's bin/inferd.js to compare branches
 * Exit status: 0 when every example that ran passed, 1 otherwise.
 *
 * The client code is not part of this repository (house rule): it is read from the given folders.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { writeTritonExamplesRepository } from '../test/fixtures/triton-examples.js';
import { freePort } from '../src/loadgen/free-port.js';

type Protocol = 'http' | 'grpc';

interface Example {
  file: string;
  protocol: Protocol;
  /**
   * Arguments after the URL; `{image}` is replaced by the generated test image, `{images}` by a
   * folder of three encoded photos-to-be (JPEG and PNG), as Triton's QA passes `../images`.
   */
  args?: string[];
  /** Needs a server of its own, started last: it changes what the server has loaded. */
  ownServer?: { models: number };
  /** URL is hard-coded to localhost:8000/8001: run it in a network namespace of its own. */
  fixedPorts?: boolean;
  /** Checks the server's name is "triton": the one difference the issue allows (run on a copy). */
  serverName?: boolean;
}

const IMAGE_ARGS = ['-m', 'densenet_onnx', '-c', '3', '-s', 'INCEPTION', '{image}'];

/** Every example the acceptance covers, with the arguments Triton's QA gives it. */
const EXAMPLES: Example[] = [
  { file: 'simple_http_infer_client.py', protocol: 'http' },
  { file: 'simple_http_async_infer_client.py', protocol: 'http' },
  { file: 'simple_http_aio_infer_client.py', protocol: 'http' },
  { file: 'simple_http_health_metadata.py', protocol: 'http', serverName: true },
  { file: 'simple_http_string_infer_client.py', protocol: 'http' },
  { file: 'simple_http_shm_client.py', protocol: 'http' },
  { file: 'simple_http_shm_string_client.py', protocol: 'http' },
  { file: 'reuse_infer_objects_client.py', protocol: 'http', args: ['-i', 'http'] },
  { file: 'image_client.py', protocol: 'http', args: ['-i', 'http', ...IMAGE_ARGS] },
  { file: 'memory_growth_test.py', protocol: 'http', args: ['-i', 'http', '-r', '20'], fixedPorts: true },
  { file: 'simple_grpc_infer_client.py', protocol: 'grpc' },
  { file: 'simple_grpc_async_infer_client.py', protocol: 'grpc' },
  { file: 'simple_grpc_aio_infer_client.py', protocol: 'grpc' },
  { file: 'simple_grpc_health_metadata.py', protocol: 'grpc', serverName: true },
  { file: 'simple_grpc_custom_args_client.py', protocol: 'grpc' },
  { file: 'simple_grpc_keepalive_client.py', protocol: 'grpc' },
  { file: 'simple_grpc_string_infer_client.py', protocol: 'grpc' },
  { file: 'simple_grpc_shm_client.py', protocol: 'grpc' },
  { file: 'simple_grpc_shm_string_client.py', protocol: 'grpc' },
  { file: 'grpc_client.py', protocol: 'grpc' },
  { file: 'grpc_explicit_int_content_client.py', protocol: 'grpc' },
  { file: 'grpc_explicit_int8_content_client.py', protocol: 'grpc' },
  { file: 'grpc_explicit_byte_content_client.py', protocol: 'grpc' },
  { file: 'reuse_infer_objects_client.py', protocol: 'grpc', args: ['-i', 'grpc'] },
  { file: 'grpc_image_client.py', protocol: 'grpc', args: IMAGE_ARGS },
  { file: 'image_client.py', protocol: 'grpc', args: ['-i', 'grpc', ...IMAGE_ARGS] },
  { file: 'memory_growth_test.py', protocol: 'grpc', args: ['-i', 'grpc', '-r', '20'], fixedPorts: true },
  // Triton's QA (L0_http, L0_grpc): `ensemble_image_client.py -c 1 ../images`.
  { file: 'ensemble_image_client.py', protocol: 'http', args: ['-i', 'http', '-c', '3', '{images}'] },
  { file: 'ensemble_image_client.py', protocol: 'grpc', args: ['-i', 'grpc', '-c', '3', '{images}'] },
  // Triton's QA runs the HTTP model-control example on a 7-model repository and the gRPC one on an
  // 8-model one (each checks the index length); both unload `simple`, so each gets its own server.
  { file: 'simple_http_model_control.py', protocol: 'http', ownServer: { models: 7 } },
  { file: 'simple_grpc_model_control.py', protocol: 'grpc', ownServer: { models: 8 } },
];

/** Examples outside the acceptance, and why (the issue excludes GPU, sequence and decoupled). */
const SKIPPED: Record<string, string> = {
  'simple_http_cudashm_client.py': 'GPU: CUDA shared memory',
  'simple_grpc_cudashm_client.py': 'GPU: CUDA shared memory',
  'simple_http_sequence_sync_infer_client.py': 'sequence batcher',
  'simple_grpc_sequence_sync_infer_client.py': 'sequence batcher',
  'simple_grpc_sequence_stream_infer_client.py': 'sequence batcher, streaming',
  'simple_grpc_aio_sequence_stream_infer_client.py': 'sequence batcher, streaming',
  'simple_grpc_custom_repeat.py': 'decoupled model (repeat_int32), streaming',
};

interface Outcome {
  example: Example;
  ok: boolean;
  detail: string;
}

const PYTHON = process.env.TRITON_PYTHON ?? 'python3';
const INFERD = resolve(process.env.TRITON_INFERD_BIN ?? 'bin/inferd.js');
const EXAMPLE_TIMEOUT_MS = 180_000;

/** Triton's QA image is a photo; a 224×224 binary PPM (PIL reads it) serves the same purpose. */
function writeImage(path: string): void {
  const w = 224;
  const h = 224;
  const header = Buffer.from(`P6\n${w} ${h}\n255\n`);
  const px = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) px.set([x % 256, y % 256, (x * y) % 256], (y * w + x) * 3);
  }
  writeFileSync(path, Buffer.concat([header, px]));
}

/** Three encoded images of different sizes and formats for the ensemble (it decodes and resizes). */
async function writeEncodedImages(dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const shots: [string, number, number, 'jpeg' | 'png'][] = [
    ['car.jpg', 640, 480, 'jpeg'],
    ['mug.png', 300, 400, 'png'],
    ['vulture.jpg', 299, 299, 'jpeg'],
  ];
  for (const [file, w, h, format] of shots) {
    const px = Buffer.alloc(w * h * 3);
    for (let i = 0; i < w * h; i++) px.set([(i * 7) % 256, (i % w) % 256, (file.length * 40) % 256], i * 3);
    const img = sharp(px, { raw: { width: w, height: h, channels: 3 } });
    await (format === 'jpeg' ? img.jpeg() : img.png()).toFile(join(dir, file));
  }
}

function serveArgs(repo: string, dataDir: string, httpPort: number, grpcPort: number): string[] {
  const args = [INFERD, 'serve', '--host', '127.0.0.1', '--auth', 'off'];
  args.push('--http-port', String(httpPort), '--grpc-port', String(grpcPort));
  args.push('--model-repository', repo, '--data-dir', dataDir, '--log-level', 'warn');
  // Model control (issue #18, triton-config): explicit mode when this build has it, as Triton's QA.
  const help = spawnSync(process.execPath, [INFERD, 'serve', '--help'], { encoding: 'utf8' });
  if (help.stdout.includes('--model-control-mode')) {
    args.push('--model-control-mode', 'explicit', '--load-model', '*');
  }
  return args;
}

interface Server {
  proc: ChildProcess;
  http: string;
  grpc: string;
  stop: () => Promise<void>;
}

async function startServer(repo: string, dataDir: string): Promise<Server> {
  const httpPort = await freePort();
  const grpcPort = await freePort();
  const proc = spawn(process.execPath, serveArgs(repo, dataDir, httpPort, grpcPort), {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const http = `127.0.0.1:${httpPort}`;
  for (let i = 0; i < 1200; i++) {
    if (proc.exitCode !== null) throw new Error(`inferd exited with ${proc.exitCode}: ${err}`);
    const ready = await fetch(`http://${http}/v2/health/ready`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ready) {
      const stop = (): Promise<void> =>
        new Promise((r) => {
          if (proc.exitCode !== null) return r();
          proc.once('exit', () => r());
          proc.kill('SIGTERM');
        });
      return { proc, http, grpc: `127.0.0.1:${grpcPort}`, stop };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  proc.kill('SIGKILL');
  throw new Error(`inferd did not become ready: ${err}`);
}

/** Lines the examples print before sys.exit() when a check fails. */
const COMPLAINT = /^(FAILED|error|improper|incorrect|expect|unexpected)/i;

/** The line a reader needs: the example's own complaint, else the exception of a traceback. */
function firstError(stdout: string, stderr: string): string {
  const errLines = stderr.split('\n').filter((l) => l.trim() !== '' && !/Warning|warnings\.warn/.test(l));
  const out = stdout.split('\n').filter((l) => l.trim() !== '');
  const complaint = out.filter((l) => COMPLAINT.test(l)).pop();
  if (complaint) return complaint.trim();
  if (/Traceback/.test(stderr) && errLines.length > 0) return errLines[errLines.length - 1]!.trim();
  return (out[out.length - 1] ?? errLines[0] ?? '').trim();
}

function runPython(
  cmd: string,
  args: string[],
  cwd: string,
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((res) => {
    const env = { ...process.env, PYTHONPATH: process.env.TRITON_PYTHONPATH ?? '', PYTHONUNBUFFERED: '1' };
    const p = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => {
      err += `\ntimed out after ${EXAMPLE_TIMEOUT_MS / 1000} s`;
      p.kill('SIGKILL');
    }, EXAMPLE_TIMEOUT_MS);
    p.on('close', (code) => {
      clearTimeout(timer);
      res({ code, out, err });
    });
  });
}

function judge(example: Example, r: { code: number | null; out: string; err: string }): Outcome {
  // Several examples print their failure and call sys.exit() (status 0): look for it as well.
  const printedFailure = r.out.split('\n').some((l) => COMPLAINT.test(l));
  const ok = r.code === 0 && !printedFailure && !/Traceback/.test(r.err);
  return { example, ok, detail: ok ? '' : firstError(r.out, r.err) || `exit status ${r.code}` };
}

/** memory_growth_test.py dials localhost:8000/8001: run server and client in a private netns. */
async function runFixedPorts(example: Example, dir: string, repo: string, dataDir: string): Promise<Outcome> {
  const serve = serveArgs(repo, dataDir, 8000, 8001).map((a) => `'${a}'`);
  const py = [PYTHON, join(dir, example.file), ...(example.args ?? [])].map((a) => `'${a}'`).join(' ');
  const script = [
    'ip link set lo up',
    `'${process.execPath}' ${serve.join(' ')} 2>/dev/null & S=$!`,
    'for i in $(seq 1200); do curl -sf http://127.0.0.1:8000/v2/health/ready >/dev/null && break; sleep 0.1; done',
    `${py}; rc=$?`,
    'kill $S; wait $S; exit $rc',
  ].join('\n');
  return judge(example, await runPython('unshare', ['-rn', 'sh', '-c', script], process.cwd()));
}

async function runOne(example: Example, dir: string, server: Server, work: string): Promise<Outcome> {
  const url = example.protocol === 'http' ? server.http : server.grpc;
  const places: Record<string, string> = {
    '{image}': join(work, 'image.ppm'),
    '{images}': join(work, 'images'),
  };
  const args = (example.args ?? []).map((a) => places[a] ?? a);
  let file = join(dir, example.file);
  if (example.serverName) {
    // The allowed difference: compare the server's name with ours instead of "triton".
    file = join(work, example.file);
    const text = readFileSync(join(dir, example.file), 'utf8');
    writeFileSync(file, text.replace(/== "triton"\)/g, '== "inferd")'));
  }
  return judge(example, await runPython(PYTHON, [file, '-u', url, ...args], dir));
}

function table(outcomes: Outcome[], skipped: [string, string][]): string {
  const esc = (s: string): string => s.replace(/\|/g, '\\|').slice(0, 160);
  const rows = outcomes.map((o) => {
    const result = o.ok ? (o.example.serverName ? 'pass (server name)' : 'pass') : 'FAIL';
    return `| ${o.example.file} | ${o.example.protocol} | ${result} | ${esc(o.detail)} |`;
  });
  const skip = skipped.map(([f, why]) => `| ${f} | | skipped | ${why} |`);
  const passed = outcomes.filter((o) => o.ok).length;
  return [
    '| example | protocol | result | first error line |',
    '|---|---|---|---|',
    ...rows,
    ...skip,
    '',
    `${passed} of ${outcomes.length} passed; ${skipped.length} skipped.`,
  ].join('\n');
}

async function main(): Promise<number> {
  const dir = resolve(process.argv[2] ?? process.env.TRITON_EXAMPLES_DIR ?? '');
  if (!process.env.TRITON_PYTHONPATH || !existsSync(join(dir, 'simple_http_infer_client.py'))) {
    console.error(
      'usage: TRITON_PYTHONPATH=<dir with tritonclient> npm run triton:examples -- <examples dir>',
    );
    return 2;
  }
  const only = process.env.TRITON_EXAMPLES_ONLY ?? '';
  const work = mkdtempSync(join(tmpdir(), 'inferd-triton-examples-'));
  const outcomes: Outcome[] = [];
  try {
    const repo = join(work, 'models');
    writeTritonExamplesRepository(repo);
    writeImage(join(work, 'image.ppm'));
    await writeEncodedImages(join(work, 'images'));
    const chosen = EXAMPLES.filter((e) => e.file.includes(only));
    const shared = chosen.filter((e) => !e.ownServer && !e.fixedPorts);
    if (shared.length > 0) {
      const server = await startServer(repo, join(work, 'data'));
      try {
        for (const e of shared) outcomes.push(await runOne(e, dir, server, work));
      } finally {
        await server.stop();
      }
    }
    for (const e of chosen.filter((x) => x.fixedPorts)) {
      outcomes.push(await runFixedPorts(e, dir, repo, join(work, `data-${e.protocol}-fixed`)));
    }
    for (const e of chosen.filter((x) => x.ownServer)) {
      const own = join(work, `models-${e.ownServer!.models}`);
      writeTritonExamplesRepository(own, e.ownServer!.models);
      const server = await startServer(own, join(work, `data-${e.protocol}`));
      try {
        outcomes.push(await runOne(e, dir, server, work));
      } finally {
        await server.stop();
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const skipped = Object.entries(SKIPPED).filter(([f]) => f.includes(only) && existsSync(join(dir, f)));
  const listed = new Set([...EXAMPLES.map((e) => e.file), ...Object.keys(SKIPPED)]);
  const unknown = readdirPy(dir).filter((f) => !listed.has(f));
  const text =
    table(outcomes, skipped) + (unknown.length ? `\nNot listed (new upstream?): ${unknown.join(', ')}` : '');
  console.log(text);
  if (process.env.TRITON_EXAMPLES_OUT) writeFileSync(process.env.TRITON_EXAMPLES_OUT, text + '\n');
  return outcomes.every((o) => o.ok) ? 0 : 1;
}

function readdirPy(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.py'));
}

process.exitCode = await main();
