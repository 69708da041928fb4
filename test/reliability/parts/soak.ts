/**
 * The 10× overload soak: measure what the `slow` fixture model sustains (closed loop), then offer
 * ten times that as an open-loop arrival rate (no coordinated omission: src/bench/load.ts) for
 * SIZES.soakS seconds, with RSS sampled from /proc and liveness probed every 250 ms. Every request
 * must be answered: 200, or the documented refusal 503 queue_full with its code; nothing hangs,
 * nothing crashes, and RSS after the soak is within +20% of RSS before it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closedLoop, openLoop, type StepCounters } from '../../../src/loadgen/load.js';
import { HttpJsonClient } from '../../../src/loadgen/http-connection.js';
import type { ClientRequest } from '../../../src/oip-client/types.js';
import { DOCUMENTED_5XX, REFUSALS } from '../lib/answers.js';
import { Inferd, probeLiveness, sampleRss } from '../lib/inferd.js';
import { makeSuiteRepository } from '../lib/repo.js';
import type { PartResult } from '../lib/results.js';
import { ADMIN_TOKEN, ANSWER_BOUND_MS, LIVE_BOUND_MS, SIZES } from '../settings.js';

/** MatMul depth of the soak model: tens of requests per second on 2 cores. */
const SLOW_DEPTH = 8;

/** The server of the soak and of the reloads: fixture models, auth off, the admin token set. */
export class SoakServer {
  private constructor(
    readonly server: Inferd,
    readonly repo: string,
    readonly dataDir: string,
  ) {}

  static async start(): Promise<SoakServer> {
    const repo = makeSuiteRepository({ slowDepth: SLOW_DEPTH });
    const dataDir = mkdtempSync(join(tmpdir(), 'inferd-rel-soak-'));
    const server = await Inferd.start({
      args: [
        '--model-repository',
        repo,
        '--data-dir',
        dataDir,
        '--auth',
        'off',
        '--admin-token',
        ADMIN_TOKEN,
      ],
    });
    return new SoakServer(server, repo, dataDir);
  }

  async close(): Promise<void> {
    await this.server.stop();
    rmSync(this.repo, { recursive: true, force: true });
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/**
 * Counts a load step's answers into the part: successes and documented refusals are answers; a
 * timeout is a hung request; anything else is a failure of its kind.
 */
export function tally(part: PartResult, s: Pick<StepCounters, 'ok' | 'errors'>, caseId?: string): void {
  part.answer('200', s.ok);
  for (const [key, n] of Object.entries(s.errors)) {
    part.answer(key, n);
    if (key === 'timeout') part.fail('hung', caseId, n);
    else if (key.startsWith('network')) part.fail('network error', caseId, n);
    else if (key === 'output mismatch') part.fail('wrong answer', caseId, n);
    else {
      const [status, code] = [Number(key.split(' ')[0]), key.split(' ')[1] ?? 'unknown'];
      if (code === 'unknown') part.fail(status < 500 ? '4xx without code' : '5xx without code', caseId, n);
      else if (status >= 500 && !DOCUMENTED_5XX.has(code)) part.fail('undocumented 5xx', caseId, n);
      else if (!REFUSALS.has(code)) part.fail(`unexpected ${key}`, caseId, n);
    }
  }
}

const slowRequest: ClientRequest = {
  modelName: 'slow',
  inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 1], data: new Float32Array([5]) }],
};

export async function overloadSoak(soak: SoakServer, part: PartResult): Promise<void> {
  const server = soak.server;
  const client = new HttpJsonClient(server.url);
  try {
    // Warm-up, then capacity: 4 callers keep the one instance busy.
    await closedLoop({ client, requests: [slowRequest], durationMs: 1000, timeoutMs: ANSWER_BOUND_MS }, 2);
    const cap = await closedLoop(
      { client, requests: [slowRequest], durationMs: SIZES.capacityS * 1000, timeoutMs: ANSWER_BOUND_MS },
      4,
    );
    const capacity = cap.ok / cap.elapsedS;
    tally(part, cap);
    await new Promise((r) => setTimeout(r, 1000));
    const start = server.rssMiB() ?? 0;
    const rate = Math.max(10, Math.round(capacity * 10));
    const rss = sampleRss(server);
    const live = probeLiveness(server, 250, 5_000);
    const step = await openLoop(
      { client, requests: [slowRequest], durationMs: SIZES.soakS * 1000, timeoutMs: ANSWER_BOUND_MS },
      rate,
    );
    const probed = await live.stop();
    tally(part, step);
    // Idle connections and in-flight work wind down before the "after" sample.
    await client.close();
    await new Promise((r) => setTimeout(r, 2000));
    const { peak, last } = rss.stop();
    part.rss = { start, peak, end: last };
    part.rssAccepted = true;
    if (server.crashed) part.fail('crash');
    if (probed.missed > 0 || probed.worstMs > LIVE_BOUND_MS) part.fail('frozen (liveness)');
    const refused = Object.entries(step.errors)
      .filter(([k]) => k.includes('queue_full'))
      .reduce((a, [, n]) => a + n, 0);
    part.notes.push(
      `capacity ${capacity.toFixed(1)} req/s (closed loop, 4 callers, ${SIZES.capacityS} s); offered ${rate} req/s for ${SIZES.soakS} s: ` +
        `sent ${step.sent}, ok ${step.ok}, refused ${refused}; admitted p99 ${step.latency.p99.toFixed(0)} ms, ` +
        `refusal p99 ${step.refusals.p99.toFixed(1)} ms, send lag p99 ${step.sendLag?.p99.toFixed(1) ?? '-'} ms; ` +
        `liveness worst ${probed.worstMs.toFixed(0)} ms over ${probed.probes} probes`,
    );
  } finally {
    await client.close();
  }
}
