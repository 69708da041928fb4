/**
 * Every code example in README.md and docs/**\/*.md runs as written, against live servers.
 *
 * What is checked, by the fence's language:
 *   - sh, bash, shell, console: the block runs in bash (`set -eo pipefail`), command after command,
 *     and must exit 0. `curl` is a shim that adds `--fail-with-body`, so an HTTP error fails the
 *     block. A comment right after a command that holds JSON (`# {...}`, `# → {...}`,
 *     `# answers: {...}`) is the command's expected output, compared as examples/expect.ts says
 *     (keys, labels, codes, values to the digits shown; never timings).
 *   - ts, typescript: type-checked as one program with the project's compiler options against the
 *     project's sources (examples/typecheck.ts), then, like js and javascript, transpiled and run by
 *     node as an ES module. Relative imports resolve from the repository root as a reader's
 *     project would see them after `npm run build`: `./dist/...` as is, `./sdk/index.js` (a .ts
 *     source) to its compiled `dist/sdk/index.js`.
 *   - json: must parse.
 *   - python: `python3 -m py_compile` only (syntax): the Python client packages the docs use
 *     (tritonclient, numpy) come from PyPI, which the test machines cannot reach.
 *   Fences without a language or in another one (diagrams, header samples) are not examples.
 *
 * How a block is run:
 *   - `localhost:8080` / `127.0.0.1:8080` become the test server's HTTP address and `:8081` its
 *     gRPC address (the servers listen on free ports); nothing else in the text is changed.
 *   - Two servers over the embedded repository `models/` (spam and OCR), started once: one as
 *     `npm start` serves it (auth off), and one as `inferd serve` does (auth on, `/v2` inference
 *     needs a key, the admin token opens the repository and statistics APIs). A block that
 *     mentions a key or the admin token (`$KEY`, `INFERD_API_KEY`, `$TOKEN`, `INFERD_ADMIN_TOKEN`,
 *     `Authorization: Bearer`, `inferd keys ...`) runs against the second, the others against
 *     the first.
 *   - The working directory is a temporary folder holding the repository's package.json, bin/,
 *     dist/, models/, sdk/ ... (symlinks, so `npx inferd` works), the auth server's data dir as
 *     `./.inferd` (the default of `inferd serve` and `inferd keys`, so keys created by an example
 *     are the server's), and the files the docs assume the reader has: `scan.png` and `page.png`,
 *     a rendered line of text.
 *   - Environment: `KEY` and `INFERD_API_KEY` hold a key made before the first block with
 *     `npx inferd keys create --plan unlimited` (the docs' way, run through npm's real npx, which
 *     checks that `npx inferd` works from a checkout), `TOKEN` and `INFERD_ADMIN_TOKEN` the admin
 *     token. In the blocks, `npx inferd ...` is a shim that runs the same `bin/inferd.js` directly
 *     (npm's own start-up costs seconds per call).
 *
 * A block that cannot run here (deploys to a cloud, starts a long-running server, a long
 * benchmark, a synopsis with placeholders) is marked in the markdown, on the line before its
 * fence:
 *     <!-- example: skip (needs an AWS account) -->
 * The reason is required and shows in the test report. Every other sh/ts/js/json/python block
 * runs: a new example either runs or is marked, never skipped silently. FILE_SKIPS below names
 * the few whole files whose blocks are not marked one by one yet, with the reason.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import sharp from 'sharp';
import ts from 'typescript';
import type { RunningServer } from '../../src/server.js';
import { startTestServer, TEST_ADMIN_TOKEN } from '../helpers/server.js';
import { layout, svgPage } from '../ocr/helpers/render.js';
import { mismatches, parsePattern } from './examples/expect.js';
import { docFiles, extract, shellCommands, type Block } from './examples/extract.js';
import { rewriteImports, typeErrors } from './examples/typecheck.js';

const run = promisify(execFile);
const ROOT = process.cwd();
const BLOCK_TIMEOUT_MS = 120_000;
/** What the working directory links from the repository. */
const LINKED = [
  'package.json',
  'bin',
  'dist',
  'node_modules',
  'models',
  'sdk',
  'proto',
  'scripts',
  'examples',
  'bench',
];

/**
 * Whole files whose every unmarked block is skipped. Keep this short: a marker next to the block
 * is better (it moves with the doc, and a new block in the file is then run).
 */
const FILE_SKIPS: Record<string, string> = {};

const { blocks, ignored, problems } = extract(ROOT, docFiles(ROOT));
for (const b of blocks) b.skip ??= FILE_SKIPS[b.file];

let work: string;
let open: RunningServer;
let gated: RunningServer;
let env: NodeJS.ProcessEnv;
let types: Map<string, string[]>;

const fileName = (block: Block): string => `example-${block.file.replace(/\W/g, '_')}-${block.index}`;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'inferd-docs-'));
  for (const name of LINKED) symlinkSync(join(ROOT, name), join(work, name));
  const page = svgPage(720, 120, layout(['Invoice 2041: total due 42.00 EUR'], 'DejaVu Sans', 32));
  await sharp(page).flatten({ background: '#fff' }).png().toFile(join(work, 'scan.png'));
  await sharp(page).flatten({ background: '#fff' }).png().toFile(join(work, 'page.png'));
  const shims = join(work, '.bin');
  mkdirSync(shims);
  const which = async (cmd: string): Promise<string> =>
    (await run('bash', ['-c', `command -v ${cmd}`])).stdout.trim();
  const shim = (name: string, script: string): void => {
    writeFileSync(join(shims, name), `#!/bin/bash\n${script}\n`);
    chmodSync(join(shims, name), 0o755);
  };
  shim('curl', `exec ${await which('curl')} --fail-with-body "$@"`);
  const npx = await which('npx');
  [open, gated] = await Promise.all([
    startTestServer(join(ROOT, 'models'), { auth: 'off' }),
    startTestServer(join(ROOT, 'models'), { auth: 'on', v2Auth: 'keys', dataDir: join(work, '.inferd') }),
  ]);
  const base = {
    ...process.env,
    PATH: `${shims}:${process.env.PATH ?? ''}`,
    npm_config_update_notifier: 'false',
    // npx links the checkout into its cache: keep that cache in the working directory.
    npm_config_cache: join(work, '.npm'),
  };
  // The real `npx inferd`, once, as the docs say to make a key...
  const made = await run(
    npx,
    ['inferd', 'keys', 'create', '--name', 'docs-examples', '--plan', 'unlimited'],
    {
      cwd: work,
      env: base,
      timeout: BLOCK_TIMEOUT_MS,
    },
  );
  const key = made.stdout.trim();
  assert.match(key, /^ik_live_\w+$/, `npx inferd keys create printed ${made.stdout}`);
  // ...then, in the blocks, `npx inferd` runs the same bin/inferd.js without npm's few seconds of
  // start-up per call (other npx calls go to npm's npx).
  shim(
    'npx',
    `if [ "$1" = inferd ]; then shift; exec ${process.execPath} ${join(ROOT, 'bin/inferd.js')} "$@"; fi\nexec ${npx} "$@"`,
  );
  const typed = blocks.filter((b) => b.skip === undefined && /^(ts|typescript)$/.test(b.lang));
  types = typeErrors(ROOT, work, new Map(typed.map((b) => [fileName(b), b.code])));
  env = {
    ...base,
    KEY: key,
    INFERD_API_KEY: key,
    TOKEN: TEST_ADMIN_TOKEN,
    INFERD_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
  };
});

after(async () => {
  await Promise.all([open?.close(), gated?.close()]);
  if (work) rmSync(work, { recursive: true, force: true });
});

const NEEDS_AUTH =
  /\$\{?(KEY|TOKEN)\b|\b(INFERD_API_KEY|INFERD_ADMIN_TOKEN)\b|Authorization: Bearer|\binferd keys\b/;

/** The block's text with the doc's addresses replaced by the chosen server's. */
function localised(block: Block): string {
  const server = NEEDS_AUTH.test(block.code) ? gated : open;
  const http = new URL(server.httpUrl).port;
  return block.code
    .replace(/\b(localhost|127\.0\.0\.1):8080\b/g, `127.0.0.1:${http}`)
    .replace(/\b(localhost|127\.0\.0\.1):8081\b/g, `127.0.0.1:${server.grpcUrl.split(':').at(-1)}`);
}

interface Outcome {
  stdout: string;
  stderr: string;
  /** Exit code, or the signal's name. */
  exit: number | string;
}

/**
 * Runs an example in its own process group and kills the whole group at the timeout, so that a
 * block that starts a server (or anything else that outlives its shell) leaves nothing behind.
 */
function runExample(file: string, args: string[]): Promise<Outcome> {
  return new Promise((done, fail) => {
    const child = spawn(file, args, { cwd: work, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const killGroup = (): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // the group has already gone
      }
    };
    const timer = setTimeout(() => {
      stderr += `\n[killed after ${BLOCK_TIMEOUT_MS} ms]`;
      killGroup();
    }, BLOCK_TIMEOUT_MS);
    child.on('error', fail);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      killGroup(); // anything the example started in the background
      done({ stdout, stderr, exit: code ?? signal ?? 'unknown' });
    });
  });
}

/** Printed after each command, numbered, to cut the block's stdout into each command's output. */
const END = '@@inferd-docs-example-end@@';

async function runShell(block: Block): Promise<void> {
  const commands = shellCommands(localised(block));
  const script = [
    'set -eo pipefail',
    ...commands.flatMap((c, k) => [c.text, `printf '\\n%s\\n' '${END}${k}'`]),
  ].join('\n');
  const { stdout, stderr, exit } = await runExample('bash', ['-c', script]);
  if (exit !== 0) {
    const done = stdout.split(END).length - 1;
    assert.fail(
      `command ${done + 1} of ${commands.length} failed (exit ${exit}):\n${commands[done]?.text}\n` +
        `stdout: ${stdout.split(END).at(-1)?.slice(-2000)}\nstderr: ${stderr.slice(-2000)}`,
    );
  }
  const outputs = stdout.split(new RegExp(`\\n${END}\\d+\\n`));
  commands.forEach((c, k) => {
    if (c.expected === undefined) return;
    let actual: unknown;
    try {
      actual = JSON.parse(outputs[k]);
    } catch {
      assert.fail(`the doc shows JSON after:\n${c.text}\nbut it printed: ${outputs[k].slice(0, 2000)}`);
    }
    const diff = mismatches(parsePattern(c.expected), actual);
    assert.deepEqual(diff, [], `output of:\n${c.text}\ndiffers from the doc's ${c.expected}`);
  });
}

/** `./sdk/index.js` → dist/sdk/index.js (compiled from sdk/index.ts); existing files as they are. */
function resolveImport(spec: string): string {
  const direct = resolve(ROOT, spec);
  if (existsSync(direct)) return direct;
  return resolve(ROOT, 'dist', spec);
}

async function runScript(block: Block): Promise<void> {
  assert.deepEqual(types.get(fileName(block)) ?? [], [], 'type errors');
  const out = ts.transpileModule(localised(block), {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    reportDiagnostics: true,
  });
  assert.deepEqual(
    (out.diagnostics ?? []).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')),
    [],
    'syntax errors',
  );
  const js = rewriteImports(out.outputText, resolveImport);
  const file = join(work, `${fileName(block)}.mjs`);
  writeFileSync(file, js);
  const { stdout, stderr, exit } = await runExample(process.execPath, [file]);
  assert.equal(exit, 0, `node ${file} failed (exit ${exit}):\n${stderr}${stdout}`);
}

async function checkPython(block: Block): Promise<void> {
  const file = join(work, `${fileName(block)}.py`);
  writeFileSync(file, block.code);
  await run('python3', ['-m', 'py_compile', file], { cwd: work });
}

it('the docs have examples, and every marker is well-formed and before an example', (t) => {
  const skipped = blocks.filter((b) => b.skip !== undefined).length;
  t.diagnostic(
    `${blocks.length} example blocks (${blocks.length - skipped} run, ${skipped} skipped: marked, or in FILE_SKIPS); ${ignored} other fenced blocks`,
  );
  assert.ok(blocks.some((b) => b.file === 'README.md' && b.kind === 'shell'));
  assert.deepEqual(problems, []);
  const files = new Set(blocks.map((b) => b.file));
  assert.deepEqual(
    Object.keys(FILE_SKIPS).filter((f) => !files.has(f)),
    [],
    'FILE_SKIPS names files without examples',
  );
});

for (const file of [...new Set(blocks.map((b) => b.file))]) {
  describe(file, () => {
    for (const block of blocks.filter((b) => b.file === file)) {
      const name = `block ${block.index} (line ${block.line}, ${block.lang})`;
      if (block.skip !== undefined) {
        it(name, { skip: block.skip }, () => undefined);
        continue;
      }
      it(name, { timeout: BLOCK_TIMEOUT_MS + 10_000 }, async () => {
        if (block.kind === 'shell') await runShell(block);
        else if (block.kind === 'script') await runScript(block);
        else if (block.kind === 'python') await checkPython(block);
        else JSON.parse(block.code);
      });
    }
  });
}
