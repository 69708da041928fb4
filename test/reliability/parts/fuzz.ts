/**
 * Property-based fuzzing of the three decoders through the real server (fast-check): REST JSON,
 * the REST binary tensor extension, and gRPC ModelInfer (plus the read-only RPCs). The property,
 * for every generated request: the answer is a success or a well-formed error (lib/answers.ts: a
 * catalogued code matching the status, no undocumented 5xx, no internals), it comes within
 * ANSWER_BOUND_MS, the server has not crashed, and every 20 requests liveness answers within
 * LIVE_BOUND_MS. fast-check stops at the first failure and shrinks it to a small counterexample,
 * which goes into the results notes with the seed to replay it (RELIABILITY_SEED).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import fc from 'fast-check';
import { grpcInput, type GrpcInput } from '../fuzz/grpc-arbitraries.js';
import { restBinaryInput, restJsonInput, type RestInput } from '../fuzz/rest-inputs.js';
import { checkGrpc, checkHttp } from '../lib/answers.js';
import { NO_ANSWER, rawClient, rawUnary } from '../lib/grpc.js';
import { Inferd } from '../lib/inferd.js';
import { httpBytes, rawRequest } from '../lib/raw-http.js';
import { makeSuiteRepository } from '../lib/repo.js';
import type { PartResult } from '../lib/results.js';
import {
  ANSWER_BOUND_MS,
  isPending,
  LIVE_BOUND_MS,
  PENDING_SIGNATURES,
  PROFILE,
  SIZES,
} from '../settings.js';

/** The short profile replays one fixed seed (CI stays deterministic); the long one a new seed. */
const SEED = process.env.RELIABILITY_SEED
  ? Number(process.env.RELIABILITY_SEED)
  : PROFILE === 'short'
    ? 23
    : Date.now() % 2 ** 31;

/** The fuzz server: fixture models, auth off (keys are not the point), loopback only. */
export class FuzzServer {
  server!: Inferd;
  grpc!: grpc.Client;
  restarts = 0;

  private constructor(
    readonly repo: string,
    readonly dataDir: string,
  ) {}

  static async start(): Promise<FuzzServer> {
    const f = new FuzzServer(
      makeSuiteRepository({ amplify: false }),
      mkdtempSync(join(tmpdir(), 'inferd-rel-fuzz-')),
    );
    await f.boot();
    return f;
  }

  private async boot(): Promise<void> {
    this.server = await Inferd.start({
      args: ['--model-repository', this.repo, '--data-dir', this.dataDir, '--auth', 'off'],
    });
    this.grpc = rawClient(this.server.grpcAddress);
  }

  /** A fresh server if the last one crashed (so shrinking can go on). */
  async ensure(): Promise<void> {
    if (!this.server.ended) return;
    this.grpc.close();
    this.restarts += 1;
    await this.boot();
  }

  async close(): Promise<void> {
    this.grpc.close();
    await this.server.stop();
    rmSync(this.repo, { recursive: true, force: true });
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

interface Verdict {
  key: string;
  problems: string[];
  /** The answer's text (error message or body), matched against PENDING_SIGNATURES. */
  text?: string;
}

async function sendRest(f: FuzzServer, input: RestInput): Promise<Verdict> {
  const bytes = httpBytes(
    'POST',
    input.path,
    [...input.headers, ['Content-Length', String(input.body.length)]],
    input.body,
  );
  const a = await rawRequest(f.server.httpPort, bytes, { timeoutMs: ANSWER_BOUND_MS });
  if (a.hung) return { key: 'hung', problems: ['hung'] };
  if (a.status === undefined) return { key: `network ${a.error ?? 'closed'}`, problems: ['network error'] };
  const v = checkHttp(a.status, a.body, [f.repo]);
  return { key: v.key, problems: v.problems, text: a.body.toString('utf8', 0, 2048) };
}

async function sendGrpc(f: FuzzServer, input: GrpcInput): Promise<Verdict> {
  const a = await rawUnary(f.grpc, input.method, input.bytes, ANSWER_BOUND_MS);
  if (a.status === NO_ANSWER) return { key: 'hung', problems: ['hung'] };
  if (a.status === 14 && a.trailerCode === undefined)
    return { key: 'network UNAVAILABLE', problems: ['network error'] };
  const v = checkGrpc(a.status, a.details, a.trailerCode, [f.repo]);
  return { key: v.key, problems: v.problems, text: a.details.slice(0, 2048) };
}

/** The pending case an answer's text belongs to, if any. */
function pendingSignature(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  return PENDING_SIGNATURES.find(([id, re]) => isPending(id) && re.test(text))?.[0];
}

const describeRest = (i: RestInput): string =>
  `POST ${i.path.slice(0, 120)} ${JSON.stringify(i.headers)} body(${i.body.length} B) ${JSON.stringify(i.body.toString('latin1', 0, 300))}`;

const describeGrpc = (i: GrpcInput): string =>
  `${i.method} ${i.bytes.length} B ${i.bytes.toString('base64').slice(0, 300)}`;

async function fuzz<T>(
  f: FuzzServer,
  part: PartResult,
  arb: fc.Arbitrary<T>,
  send: (f: FuzzServer, input: T) => Promise<Verdict>,
  describe: (input: T) => string,
): Promise<void> {
  let n = 0;
  let failed = false;
  const property = fc.asyncProperty(arb, async (input) => {
    await f.ensure();
    n += 1;
    const v = await send(f, input);
    part.answer(v.key);
    const problems = [...v.problems];
    if (f.server.crashed) problems.push('crash');
    else if (n % 20 === 0 && (await f.server.liveMs(LIVE_BOUND_MS)) === undefined)
      problems.push('frozen (liveness)');
    // A known failure whose fix is on another branch: kept apart, and the fuzzing goes on.
    const known =
      problems.length > 0 && problems.every((p) => p !== 'crash') ? pendingSignature(v.text) : undefined;
    if (known) {
      for (const p of problems) part.fail(p, known);
      return true;
    }
    if (problems.length > 0 && !failed) {
      // Counted once: the shrinking replays that follow are not new failures.
      failed = true;
      for (const p of problems) part.fail(p);
      part.notes.push(`first failure (${problems.join(', ')}): ${describe(input)}`);
    }
    return problems.length === 0;
  });
  const budgetMs = PROFILE === 'short' ? 25_000 : 600_000;
  const res = await fc.check(property, {
    numRuns: SIZES.fuzzRuns,
    seed: SEED,
    interruptAfterTimeLimit: budgetMs,
    markInterruptAsFailure: false,
  });
  part.notes.push(`${res.numRuns} runs, seed ${SEED}${res.interrupted ? ' (time budget reached)' : ''}`);
  if (res.failed && res.counterexample) {
    part.notes.push(
      `shrunk counterexample (path ${res.counterexamplePath ?? '-'}): ${describe(res.counterexample[0])}`,
    );
  }
  if (f.restarts > 0) part.notes.push(`server restarted ${f.restarts} times after crashes`);
}

export const fuzzRestJson = (f: FuzzServer, part: PartResult): Promise<void> =>
  fuzz(f, part, restJsonInput, sendRest, describeRest);

export const fuzzRestBinary = (f: FuzzServer, part: PartResult): Promise<void> =>
  fuzz(f, part, restBinaryInput, sendRest, describeRest);

export const fuzzGrpc = (f: FuzzServer, part: PartResult): Promise<void> =>
  fuzz(f, part, grpcInput, sendGrpc, describeGrpc);
