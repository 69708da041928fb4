/**
 * A corpus case: one finding of issue 23 replayed against the real server, with the answer it must
 * get. Cases build their requests in code (the large ones at run time: nothing big is committed)
 * and report problems as short kinds; the runner (parts/corpus.ts) adds what holds for every case:
 * the server did not crash, stayed live while the case ran, logged no unbounded line and no stack
 * trace for a client's mistake.
 */
import type * as grpc from '@grpc/grpc-js';
import { checkGrpc, checkHttp } from '../lib/answers.js';
import { NO_ANSWER, rawUnary, unaryCall, type GrpcAnswer } from '../lib/grpc.js';
import type { Inferd } from '../lib/inferd.js';
import type { CreatedKey } from '../lib/keys.js';
import { ADMIN_HEADER, ANSWER_BOUND_MS, keyHeader } from '../settings.js';

/** Who the request claims to be. */
export type Caller = 'key' | 'free' | 'admin' | 'none';

export interface HttpResult {
  status?: number;
  body: Buffer;
  headers: Record<string, string>;
  ms: number;
  hung: boolean;
  error?: string;
}

export interface CaseContext {
  server: Inferd;
  repo: string;
  dataDir: string;
  /** An `unlimited` plan key and a `free` plan key (2 MiB payload limit). */
  key: CreatedKey;
  freeKey: CreatedKey;
  grpcClient: grpc.Client;
  rawGrpc: grpc.Client;
  http(
    method: string,
    path: string,
    opts?: { body?: Buffer | string; headers?: Record<string, string>; as?: Caller; timeoutMs?: number },
  ): Promise<HttpResult>;
  grpc(method: string, request: unknown, opts?: { as?: Caller; deadline?: Date }): Promise<GrpcAnswer>;
  grpcRaw(method: string, bytes: Buffer, opts?: { as?: Caller; deadline?: Date }): Promise<GrpcAnswer>;
}

export interface Outcome {
  /** Requests the case sent. */
  requests: number;
  /** Answer keys ("400 invalid_input", "OK", "hung", …) → count. */
  answers: Record<string, number>;
  /** Failure kinds; empty = the case passed. */
  problems: string[];
}

export interface CorpusCase {
  /** Stable id, e.g. `f1-rest-json-bytes`; PENDING_CASES lists ids. */
  id: string;
  /** The finding: '1'…'12' or 'low'. */
  finding: string;
  /** What is sent and what must come back (docs/reliability.md lists these). */
  title: string;
  /** `long`: only in the long profile (costly on 2 cores). */
  profile?: 'long';
  run(ctx: CaseContext): Promise<Outcome>;
}

export function headersFor(ctx: Pick<CaseContext, 'key' | 'freeKey'>, as: Caller): Record<string, string> {
  switch (as) {
    case 'key':
      return { [keyHeader(ctx.key.key).name]: keyHeader(ctx.key.key).value };
    case 'free':
      return { [keyHeader(ctx.freeKey.key).name]: keyHeader(ctx.freeKey.key).value };
    case 'admin':
      return { [ADMIN_HEADER.name]: ADMIN_HEADER.value };
    case 'none':
      return {};
  }
}

/** Collects answers and problems of one case. */
export class Tally implements Outcome {
  requests = 0;
  answers: Record<string, number> = {};
  problems: string[] = [];

  constructor(private readonly secrets: string[] = []) {}

  note(key: string): void {
    this.requests += 1;
    this.answers[key] = (this.answers[key] ?? 0) + 1;
  }

  problem(kind: string): void {
    this.problems.push(kind);
  }

  /**
   * One HTTP answer: well-formed (lib/answers.ts), with a status in `statuses` and, when given, a
   * code in `codes`. Returns the parsed JSON body when there is one.
   */
  http(r: HttpResult, statuses: number[], codes?: string[]): Record<string, unknown> | undefined {
    if (r.hung) {
      this.note('hung');
      this.problem('hung');
      return undefined;
    }
    if (r.status === undefined) {
      this.note(`network ${r.error ?? 'closed'}`);
      this.problem('network error');
      return undefined;
    }
    const v = checkHttp(r.status, r.body, this.secrets);
    this.note(v.key);
    for (const p of v.problems) this.problem(p);
    if (!statuses.includes(r.status)) this.problem(`wrong status (${r.status}, want ${statuses.join('/')})`);
    else if (codes && r.status >= 400 && !(v.code && codes.includes(v.code))) {
      this.problem(`wrong code (${v.code ?? 'none'}, want ${codes.join('/')})`);
    }
    try {
      return JSON.parse(r.body.toString('utf8', 0, Math.min(r.body.length, 4 * 1024 * 1024))) as Record<
        string,
        unknown
      >;
    } catch {
      return undefined;
    }
  }

  /** One gRPC answer, with a status in `statuses` (numbers, grpc.status) and a code in `codes`. */
  grpc(a: GrpcAnswer, statuses: number[], codes?: string[]): void {
    // No answer within the bound, or our own deadline (ANSWER_BOUND_MS) passed.
    if (
      a.status === NO_ANSWER ||
      (a.status === 4 && a.trailerCode === undefined && a.ms >= ANSWER_BOUND_MS - 50)
    ) {
      this.note('hung');
      this.problem('hung');
      return;
    }
    if (a.status === 14 && a.trailerCode === undefined) {
      this.note(`network UNAVAILABLE`);
      this.problem('network error');
      return;
    }
    const v = checkGrpc(a.status, a.details, a.trailerCode, this.secrets);
    this.note(v.key);
    for (const p of v.problems) this.problem(p);
    if (!statuses.includes(a.status)) this.problem(`wrong status (${a.status}, want ${statuses.join('/')})`);
    else if (codes && a.status !== 0 && !(v.code && codes.includes(v.code))) {
      this.problem(`wrong code (${v.code ?? 'none'}, want ${codes.join('/')})`);
    }
  }

  check(ok: boolean, kind: string): void {
    if (!ok) this.problem(kind);
  }
}

/** Context helpers over a running server (used by parts/corpus.ts). */
export function makeHelpers(
  base: Omit<CaseContext, 'http' | 'grpc' | 'grpcRaw'>,
): Pick<CaseContext, 'http' | 'grpc' | 'grpcRaw'> {
  return {
    async http(method, path, opts = {}) {
      const started = performance.now();
      const headers = { ...headersFor(base, opts.as ?? 'key'), ...opts.headers };
      try {
        const res = await fetch(base.server.url + path, {
          method,
          headers,
          ...(opts.body !== undefined ? { body: opts.body } : {}),
          signal: AbortSignal.timeout(opts.timeoutMs ?? ANSWER_BOUND_MS),
        });
        const body = Buffer.from(await res.arrayBuffer());
        const h: Record<string, string> = {};
        res.headers.forEach((v, k) => (h[k] = v));
        return { status: res.status, body, headers: h, ms: performance.now() - started, hung: false };
      } catch (err) {
        const e = err as { name?: string; cause?: { code?: string }; message?: string };
        const hung = e.name === 'TimeoutError';
        return {
          body: Buffer.alloc(0),
          headers: {},
          ms: performance.now() - started,
          hung,
          ...(hung ? {} : { error: e.cause?.code ?? e.message ?? 'error' }),
        };
      }
    },
    grpc(method, request, opts = {}) {
      return unaryCall(
        base.grpcClient,
        method,
        request,
        ANSWER_BOUND_MS,
        headersFor(base, opts.as ?? 'key'),
        opts.deadline,
      );
    },
    grpcRaw(method, bytes, opts = {}) {
      return rawUnary(
        base.rawGrpc,
        method,
        bytes,
        ANSWER_BOUND_MS,
        headersFor(base, opts.as ?? 'key'),
        opts.deadline,
      );
    },
  };
}

/** JSON body helper. */
export const json = (v: unknown): string => JSON.stringify(v);

/** A valid request for the `add` fixture (FP32 [1, 4] + [1, 4]). */
export function addRequest(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    inputs: [
      { name: 'a', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] },
      { name: 'b', shape: [1, 4], datatype: 'FP32', data: [0, 0, 0, 0] },
    ],
    ...extra,
  };
}
