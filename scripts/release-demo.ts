/**
 * `npm run release:demo`: the whole release loop of issue #17 on this machine, against a live
 * server under load, with the commands a user runs (docs/lifecycle.md):
 *
 *   retrain (a new seed) → release gate → canary 10% of a deliberately broken candidate →
 *   automatic rollback → canary 10% of the good candidate → promote
 *
 * A closed loop of clients sends real messages to /v2/models/spam/infer throughout (no version
 * named, so the rollout decides) and counts every answer that is not a 200. The script prints a
 * timeline table and exits 0 only with zero failed requests, the broken candidate rolled back and
 * the good one promoted. Nothing of the user's repository is written: it works on a copy.
 *
 *   npm run release:demo [-- --clients 8 --bake-s 20]
 */
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { buildModel } from '../src/training/graph-builder.js';
import { freePort } from '../src/loadgen/free-port.js';

const { values: flags } = parseArgs({
  options: {
    clients: { type: 'string', default: '8' },
    'bake-s': { type: 'string', default: '20' },
    seed: { type: 'string', default: '43' },
  },
});
const CLIENTS = Number(flags.clients);
const BAKE_MS = Number(flags['bake-s']) * 1000;
const BIN = resolve('bin/inferd.js');
const TOKEN = `demo-admin-${process.pid}-${Date.now()}`;

const MESSAGES = [
  'Subject: lunch?\n\nAre we still on for lunch tomorrow at noon?',
  'Subject: You have WON a prize\n\nCongratulations! Click here to claim your free gift card now.',
  'Subject: minutes\n\nAttached are the minutes of Monday’s meeting; comments by Friday please.',
  'Subject: URGENT account verify\n\nYour account is suspended. Verify at http://example.test/login now.',
  'running late, be there in 10',
];

interface Event {
  t: number;
  event: string;
  detail: string;
}

const t0 = performance.now();
const events: Event[] = [];
const seconds = (): number => (performance.now() - t0) / 1000;
function note(event: string, detail = ''): void {
  events.push({ t: seconds(), event, detail });
  process.stderr.write(`[${seconds().toFixed(1).padStart(6)} s] ${event}${detail ? `: ${detail}` : ''}\n`);
}

// ---------- the load: a closed loop that never stops between phases ----------
const load = { sent: 0, ok: 0, failed: 0, byVersion: new Map<string, number>(), failures: [] as string[] };
let running = true;

async function client(url: string, id: number): Promise<void> {
  let i = 0;
  while (running) {
    const text = MESSAGES[(id + i++) % MESSAGES.length]!;
    load.sent++;
    try {
      const res = await fetch(`${url}/v2/models/spam/infer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ inputs: [{ name: 'text', datatype: 'BYTES', shape: [1], data: [text] }] }),
      });
      const body = await res.text();
      if (res.status === 200) {
        load.ok++;
        const v = res.headers.get('x-model-version') ?? '?';
        load.byVersion.set(v, (load.byVersion.get(v) ?? 0) + 1);
      } else {
        load.failed++;
        if (load.failures.length < 5) load.failures.push(`${res.status} ${body.slice(0, 200)}`);
      }
    } catch (e) {
      load.failed++;
      if (load.failures.length < 5) load.failures.push(String(e));
    }
  }
}

const shares = (): string =>
  [...load.byVersion.entries()]
    .sort()
    .map(([v, n]) => `v${v} ${n}`)
    .join(', ');

// ---------- the pieces a user runs ----------

/** Runs `inferd …` to the end without blocking the load's event loop; returns its exit status and output. */
function inferd(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((res) => {
    const p = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, INFERD_ADMIN_TOKEN: TOKEN },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    p.on('close', (code) => res({ code, out }));
  });
}

async function status(url: string): Promise<{ phase?: string; reason?: string; candidate?: string }> {
  const r = await inferd(['rollout', 'status', 'spam', '--url', url, '--json']);
  try {
    return JSON.parse(r.out) as { phase?: string; reason?: string; candidate?: string };
  } catch {
    return {};
  }
}

async function reload(url: string): Promise<void> {
  const res = await fetch(`${url}/v2/repository/models/spam/load`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  if (!res.ok) throw new Error(`reload failed: ${res.status} ${await res.text()}`);
}

/** A candidate that loads but fails on every real message: its probability is the text cast to a number. */
function brokenModel(): Uint8Array {
  return buildModel({
    inputs: [{ name: 'text', type: 'STRING', shape: ['N'] }],
    outputs: [
      { name: 'probability', type: 'FLOAT', shape: ['N'] },
      { name: 'label', type: 'STRING', shape: ['N'] },
    ],
    nodes: [
      { op: 'Cast', inputs: ['text'], outputs: ['probability'], attrs: { to: 1 } },
      { op: 'Identity', inputs: ['text'], outputs: ['label'] },
    ],
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(what: string, ms: number, check: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await sleep(500);
  }
  throw new Error(`${what}: not within ${ms / 1000} s`);
}

async function main(): Promise<number> {
  const work = mkdtempSync(join(tmpdir(), 'inferd-release-demo-'));
  const repo = join(work, 'models');
  cpSync('models/spam', join(repo, 'spam'), { recursive: true });
  const configPath = join(repo, 'spam', 'config.json');
  const config = JSON.parse(readFileSync(configPath, 'utf8')) as Record<string, unknown>;
  // Every version written stays loaded: the canary needs production and the candidate side by side.
  config.version_policy = { all: {} };
  writeFileSync(configPath, JSON.stringify(config, null, 2) + '\n');

  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const server = spawn(
    process.execPath,
    [BIN, 'serve', '--host', '127.0.0.1', '--http-port', String(port), '--grpc-port', '0'],
    {
      env: {
        ...process.env,
        INFERD_MODEL_REPOSITORY: repo,
        INFERD_DATA_DIR: join(work, 'data'),
        INFERD_AUTH: 'on',
        INFERD_V2_AUTH: 'off',
        INFERD_ADMIN_TOKEN: TOKEN,
        INFERD_LOG_LEVEL: 'warn',
        INFERD_ROLLOUT_RELOAD_MS: '500',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const clients: Promise<void>[] = [];
  let verdict = 1;
  try {
    await until('server ready', 120_000, async () => {
      try {
        return (await fetch(`${url}/v2/models/spam/ready`)).ok;
      } catch {
        return false;
      }
    });
    note('server ready', `spam v1 is production; ${CLIENTS} clients start sending`);
    for (let c = 0; c < CLIENTS; c++) clients.push(client(url, c));
    await sleep(3000);
    note('baseline', `${load.ok} answered, ${load.failed} failed (${shares()})`);

    const train = await inferd([
      'train',
      'spam',
      '--out',
      repo,
      '--seed',
      String(flags.seed),
      '--version',
      '2',
    ]);
    if (train.code !== 0) throw new Error(`train failed:\n${train.out}`);
    note('retrained v2', (/test f1=[\d.]+ auc=[\d.]+/.exec(train.out) ?? [''])[0] + ` (seed ${flags.seed})`);

    const gate = await inferd(['evaluate', 'spam', '--model-repository', repo, '--candidate', '2']);
    note('gate v2 vs production', gate.code === 0 ? 'passed (exit 0)' : `failed (exit ${gate.code})`);
    if (gate.code !== 0) throw new Error(`the gate failed:\n${gate.out}`);

    mkdirSync(join(repo, 'spam', '3'));
    writeFileSync(join(repo, 'spam', '3', 'model.onnx'), brokenModel());
    await reload(url);
    note('loaded v2 and v3', 'v3 is deliberately broken: every inference fails');

    const before3 = { ...load };
    const start3 = await inferd(
      ['rollout', 'start', 'spam', '--url', url, '--version', '3', '--percent', '10'].concat([
        '--min-samples',
        '20',
        '--reason',
        'demo: a broken candidate',
      ]),
    );
    if (start3.code !== 0) throw new Error(`rollout start failed:\n${start3.out}`);
    note('canary v3 10%', 'started (min 20 samples, window 60 s)');
    let st = await status(url);
    await until(
      'automatic rollback of v3',
      120_000,
      async () => (st = await status(url)).phase === 'rolled_back',
    );
    note(
      'automatic rollback of v3',
      `${st.reason ?? ''}; requests meanwhile: ${load.sent - before3.sent}, failed ${load.failed - before3.failed}`,
    );

    const start2 = await inferd(
      ['rollout', 'start', 'spam', '--url', url, '--version', '2', '--percent', '10'].concat([
        '--reason',
        'demo: retrained with a new seed, gate passed',
      ]),
    );
    if (start2.code !== 0) throw new Error(`rollout start v2 failed:\n${start2.out}`);
    const at2 = new Map(load.byVersion);
    note('canary v2 10%', `baking ${BAKE_MS / 1000} s`);
    await sleep(BAKE_MS);
    st = await status(url);
    const canaryShare = (() => {
      const d = (v: string) => (load.byVersion.get(v) ?? 0) - (at2.get(v) ?? 0);
      const total = d('1') + d('2');
      return total > 0 ? `${((100 * d('2')) / total).toFixed(1)}% of ${total} answers from v2` : 'no answers';
    })();
    note('canary v2 bake done', `phase ${st.phase}; ${canaryShare}`);
    if (st.phase !== 'canary') throw new Error(`v2's canary did not survive: ${st.reason}`);

    const promote = await inferd([
      'rollout',
      'promote',
      'spam',
      '--url',
      url,
      '--reason',
      'demo: canary healthy',
    ]);
    if (promote.code !== 0) throw new Error(`promote failed:\n${promote.out}`);
    const atPromote = new Map(load.byVersion);
    await sleep(3000);
    const after = (load.byVersion.get('2') ?? 0) - (atPromote.get('2') ?? 0);
    const other = [...load.byVersion.entries()].reduce(
      (a, [v, n]) => a + (v === '2' ? 0 : n - (atPromote.get(v) ?? 0)),
      0,
    );
    note('promoted v2', `next 3 s: ${after} answers from v2, ${other} from others`);
    running = false;
    await Promise.all(clients);
    note('load stopped', `${load.sent} sent, ${load.ok} answered, ${load.failed} failed (${shares()})`);
    verdict = load.failed === 0 && other === 0 ? 0 : 1;
  } catch (e) {
    note('FAILED', (e as Error).message.slice(0, 2000));
  } finally {
    running = false;
    await Promise.all(clients);
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
    rmSync(work, { recursive: true, force: true });
  }
  const rows = events.map(
    (e) => `| ${e.t.toFixed(1)} | ${e.event} | ${e.detail.replace(/\|/g, '\\|').replace(/\n/g, ' ')} |`,
  );
  console.log(['| t (s) | event | detail |', '|---:|---|---|', ...rows].join('\n'));
  console.log(`\nrequests: ${load.sent} sent, ${load.ok} answered, ${load.failed} failed`);
  if (load.failures.length) console.log(`first failures:\n${load.failures.join('\n')}`);
  console.log(verdict === 0 ? 'release demo: PASS' : 'release demo: FAIL');
  return verdict;
}

process.exitCode = await main();
