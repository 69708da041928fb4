/**
 * `inferd bench` without the command line: builds the request, runs each step (one per
 * concurrency level, or one open-loop step at `rate`) and brackets each with the server's stats.
 */
import { createClient, type Transport } from '../oip-client/index.js';
import { HttpJsonClient } from './http-connection.js';
import { closedLoop, openLoop, type StepCounters } from './load.js';
import type { LatencySummary } from './latency.js';
import { fetchStats, statsDelta, type ServerSplit } from './server-stats.js';
import { loadRequests } from './input-file.js';
import { outputMismatch } from './output-check.js';
import { synthRequest } from './synth.js';

export interface BenchOptions {
  /** http://host:port for REST; host:port for gRPC. */
  url: string;
  model: string;
  modelVersion?: string;
  transport: Transport;
  /** Closed-loop steps; ignored when `rate` is set. */
  concurrency: number[];
  /** Open-loop arrival rate, req/s. */
  rate?: number;
  durationS: number;
  /** A JSON OIP request body; without it the request is synthesised from the model's metadata. */
  inputFile?: string;
  /** Where /v2/models/{m}/stats is served (defaults to `url` for REST, none for gRPC). */
  statsUrl?: string;
  /** Per-request client timeout, ms. */
  timeoutMs: number;
  onProgress?: (line: string) => void;
}

export interface StepReport {
  mode: 'concurrency' | 'rate';
  /** The concurrency level or the arrival rate (req/s) of this step. */
  load: number;
  durationS: number;
  sent: number;
  ok: number;
  failed: number;
  errors: Record<string, number>;
  /** Successful answers per second. */
  throughput: number;
  latencyMs: LatencySummary;
  refusalMs: LatencySummary;
  /** Refusals timed from their actual send (the server's part, without the client's lag). */
  refusalFromSendMs: LatencySummary;
  /** Open loop: lateness of the actual sends versus the schedule (see load.ts). */
  sendLagMs?: LatencySummary;
  /** The server's queue/compute split for the step; absent when its stats could not be read. */
  server?: ServerSplit;
}

export interface BenchReport {
  url: string;
  model: string;
  transport: Transport;
  /** The inputs of the first request (the synthesised one, or the file's first). */
  request: Array<{ name: string; datatype: string; shape: number[] }>;
  /** Distinct requests sent round-robin (1 unless --input holds several). */
  requestCount: number;
  steps: StepReport[];
}

function toStep(mode: StepReport['mode'], load: number, c: StepCounters, server?: ServerSplit): StepReport {
  const failed = Object.values(c.errors).reduce((a, b) => a + b, 0);
  return {
    mode,
    load,
    durationS: c.elapsedS,
    sent: c.sent,
    ok: c.ok,
    failed,
    errors: c.errors,
    throughput: c.elapsedS > 0 ? c.ok / c.elapsedS : 0,
    latencyMs: c.latency,
    refusalMs: c.refusals,
    refusalFromSendMs: c.refusalsFromSend,
    ...(c.sendLag ? { sendLagMs: c.sendLag } : {}),
    ...(server ? { server } : {}),
  };
}

export async function runBench(o: BenchOptions): Promise<BenchReport> {
  // REST JSON goes through node:http (see http-client.ts for why); the others use the shared clients.
  const client =
    o.transport === 'rest-json'
      ? new HttpJsonClient(o.url.replace(/\/+$/, ''))
      : createClient(o.transport, o.url);
  const statsUrl = o.statsUrl ?? (o.transport === 'grpc' ? undefined : o.url);
  try {
    const metadata = () => client.modelMetadata(o.model, o.modelVersion);
    const { requests, expected } = o.inputFile
      ? await loadRequests({ path: o.inputFile, model: o.model, modelVersion: o.modelVersion, metadata })
      : { requests: [synthRequest(await metadata(), o.modelVersion)], expected: undefined };
    // Each request once before measuring: a bad one (or a wrong answer) fails fast, named, instead
    // of a step full of errors.
    for (const [i, request] of requests.entries()) {
      const where = requests.length === 1 ? '' : `request ${i} of --input ${o.inputFile}: `;
      let answer;
      try {
        answer = await client.infer(request, { timeoutMs: o.timeoutMs });
      } catch (err) {
        if (!where) throw err;
        throw new Error(`${where}${(err as Error).message}`, { cause: err });
      }
      const mismatch = expected && outputMismatch(expected[i]!, answer.outputs);
      if (mismatch) throw new Error(`${where || `--input ${o.inputFile}: `}${mismatch}`);
    }
    const steps: StepReport[] = [];
    const plan: Array<[StepReport['mode'], number]> =
      o.rate !== undefined ? [['rate', o.rate]] : o.concurrency.map((c) => ['concurrency', c]);
    for (const [mode, load] of plan) {
      const label = mode === 'rate' ? `rate ${load}/s` : `concurrency ${load}`;
      const before = statsUrl ? await fetchStats(statsUrl, o.model) : undefined;
      const loadOpts = {
        client,
        requests,
        expected,
        durationMs: o.durationS * 1000,
        timeoutMs: o.timeoutMs,
        onProgress: (p: { elapsedS: number; sent: number; ok: number; failed: number }) =>
          o.onProgress?.(
            `${label}: ${p.elapsedS.toFixed(0)}/${o.durationS}s sent ${p.sent} ok ${p.ok} failed ${p.failed} ` +
              `(${(p.ok / Math.max(p.elapsedS, 1e-9)).toFixed(0)} req/s)`,
          ),
      };
      const counters = mode === 'rate' ? await openLoop(loadOpts, load) : await closedLoop(loadOpts, load);
      const after = statsUrl && before ? await fetchStats(statsUrl, o.model) : undefined;
      steps.push(toStep(mode, load, counters, before && after ? statsDelta(before, after) : undefined));
    }
    return {
      url: o.url,
      model: o.model,
      transport: o.transport,
      request: requests[0]!.inputs.map((t) => ({ name: t.name, datatype: t.datatype, shape: t.shape })),
      requestCount: requests.length,
      steps,
    };
  } finally {
    await client.close();
  }
}
