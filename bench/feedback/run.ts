/**
 * Per-request cost of feedback and drift on the /v1 path, in-process: the drift window's observe
 * (spam's committed reference, the gateway bench's three messages) and the prediction log's write
 * (SQLite file in WAL mode; PostgreSQL too when DATABASE_URL is set), with and without a kept input,
 * beside the usage record every metered request already writes (same store, same group commit).
 * Medians of `--rounds` rounds of `--calls` calls each.
 *   npm run build && node dist/bench/feedback/run.js [--calls 20000] [--rounds 5]
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { PredictionLog } from '../../src/gateway/feedback.js';
import { UsageMeter } from '../../src/gateway/metering.js';
import { DEFAULT_PLANS, type PlanSet } from '../../src/gateway/plans.js';
import { PostgresStore } from '../../src/gateway/store/postgres.js';
import { SqliteStore } from '../../src/gateway/store/sqlite.js';
import type { Store } from '../../src/gateway/store/types.js';
import { parseDriftReference } from '../../src/core/drift-reference.js';
import { DriftWindow } from '../../src/observability/drift-window.js';
import type { Signature } from '../../src/gateway/api/signature.js';

const { values } = parseArgs({
  options: { calls: { type: 'string', default: '20000' }, rounds: { type: 'string', default: '5' } },
});
const CALLS = Number(values.calls);
const ROUNDS = Number(values.rounds);

const TEXTS = [
  'Subject: lunch\n\nHi Bob, are we still on for lunch tomorrow at noon? Thanks, Alice',
  'Subject: You have WON a prize\n\nCongratulations! Click here to claim your free gift card now.',
  'Subject: invoice 2291\n\nPlease find attached the invoice for October. Regards, accounts',
];
const SIG = JSON.parse(readFileSync('models/spam/config.json', 'utf8')).signature as Signature;
const PLANS: PlanSet = {
  ...DEFAULT_PLANS,
  plans: { keep: { ...DEFAULT_PLANS.plans['pro']!, keepInputs: true }, plain: DEFAULT_PLANS.plans['pro']! },
};

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** `inFlight` calls at a time (as concurrent requests would), awaited together. */
async function rounds(name: string, fn: (i: number) => unknown, inFlight = 1): Promise<void> {
  const perCall: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t = performance.now();
    for (let i = 0; i < CALLS; i += inFlight) {
      await Promise.all(Array.from({ length: inFlight }, (_, j) => fn(r * CALLS + i + j)));
    }
    perCall.push(((performance.now() - t) * 1000) / CALLS);
  }
  console.log(`| ${name} | ${median(perCall).toFixed(1)} | ${perCall.map((x) => x.toFixed(1)).join(', ')} |`);
}

async function logBench(kind: string, store: Store): Promise<void> {
  // The record every metered request already writes, for comparison (same store, same pattern).
  const meter = new UsageMeter(store);
  for (const inFlight of [1, 16]) {
    await rounds(
      `usage record (existing), ${kind}, ${inFlight} in flight`,
      (i) =>
        meter.record({
          keyId: 'key_u',
          model: 'spam',
          version: '1',
          status: 200,
          units: 1,
          latencyMs: 1,
          time: i,
        }),
      inFlight,
    );
  }
  const log = new PredictionLog({ store, plans: PLANS, logger: pino({ level: 'silent' }) });
  for (const [plan, inFlight] of [
    ['plain', 1],
    ['keep', 1],
    ['keep', 16],
  ] as const) {
    const key = { id: `key_${plan}_${inFlight}`, plan } as Parameters<PredictionLog['record']>[0]['key'];
    const what = `${plan === 'keep' ? 'input kept' : 'no input'}, ${inFlight} in flight`;
    await rounds(
      `prediction log, ${kind}, ${what}`,
      (i) =>
        log.record({
          key,
          requestId: `r${i}`,
          model: 'spam',
          version: '1',
          sig: SIG,
          body: { text: TEXTS[i % 3] },
          item: { label: 'ham', score: 0.01 },
        }),
      inFlight,
    );
  }
}

console.log(`calls per round ${CALLS}, rounds ${ROUNDS}; µs per call\n`);
console.log('| what | median µs/call | rounds |\n|---|---|---|');
const ref = parseDriftReference(JSON.parse(readFileSync('models/spam/1/drift_reference.json', 'utf8')));
const w = new DriftWindow(ref);
await rounds('drift observe (2 features + score)', (i) => w.observe(TEXTS[i % 3]!, { probability: 0.01 }));
const t = performance.now();
for (let i = 0; i < 1000; i++) w.psi();
console.log(
  `| drift PSI on scrape (3 histograms) | ${(performance.now() - t).toFixed(1)} | (1,000 calls, µs each) |`,
);

const dir = mkdtempSync(join(tmpdir(), 'inferd-fb-bench-'));
const sqlite = new SqliteStore(join(dir, 'inferd.db'));
await logBench('SQLite', sqlite);
await sqlite.close();
rmSync(dir, { recursive: true, force: true });
if (process.env.DATABASE_URL) {
  const pg = await PostgresStore.open(process.env.DATABASE_URL, `bench_fb_${process.pid}`);
  try {
    await logBench('PostgreSQL (local)', pg);
  } finally {
    await pg.dropSchema();
    await pg.close();
  }
}
