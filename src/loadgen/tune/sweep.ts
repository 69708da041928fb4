/**
 * `inferd tune` without the command line: for the current config and each candidate, a server over
 * a copy of the repository where only the tuned model's config differs (every other file is a
 * symlink), a warm-up step, then one measured closed-loop step at the given concurrency; and the
 * confirmation of the winner against the current config, side by side (confirm.ts).
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runBench } from '../run.js';
import type { Measured } from './pareto.js';
import type { ConfirmRound } from './confirm.js';
import { startTuneServer, type TuneServer } from './server-process.js';
import { applyCandidate, label, type Candidate } from './space.js';
import type { PlotPoint } from './svg.js';

type Obj = Record<string, unknown>;

export interface SweepOptions {
  /** The model repository as the user has it (never written to). */
  repository: string;
  model: string;
  /** The model's config as read (config.json fields, or config.pbtxt decoded to Triton's JSON). */
  config: Obj;
  candidates: Candidate[];
  concurrency: number;
  durationS: number;
  warmupS: number;
  inputFile?: string;
  /** The inferd entry point to run (bin/inferd.js). */
  serverBin: string;
  onProgress?: (line: string) => void;
}

export interface SweepPoint extends PlotPoint {
  candidate?: Candidate;
  /** Why the candidate could not be measured (the server refused the config, all requests failed…). */
  error?: string;
}

const CONFIG_FILES = new Set(['config.json', 'config.pbtxt']);

/** A repository whose model folder `model` holds `config` as config.json; the rest are symlinks. */
function overlay(root: string, repository: string, model: string, config: Obj): string {
  const repo = join(root, 'models');
  mkdirSync(repo, { recursive: true });
  for (const entry of readdirSync(repository)) {
    if (entry === model) continue;
    symlinkSync(resolve(repository, entry), join(repo, entry));
  }
  const dir = join(repo, model);
  mkdirSync(dir);
  for (const entry of readdirSync(join(repository, model))) {
    if (!CONFIG_FILES.has(entry)) symlinkSync(resolve(repository, model, entry), join(dir, entry));
  }
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2) + '\n');
  return repo;
}

/** A server over an overlay repository holding `config`; `stop` also removes the overlay. */
async function serve(o: SweepOptions, config: Obj): Promise<TuneServer> {
  const root = mkdtempSync(join(tmpdir(), 'inferd-tune-'));
  try {
    const server = await startTuneServer(
      o.serverBin,
      overlay(root, o.repository, o.model, config),
      o.model,
      join(root, 'data'),
    );
    return {
      url: server.url,
      stop: async () => {
        await server.stop();
        rmSync(root, { recursive: true, force: true });
      },
    };
  } catch (e) {
    rmSync(root, { recursive: true, force: true });
    throw e;
  }
}

/** One closed-loop step at the sweep's concurrency against a running server. */
async function step(
  o: SweepOptions,
  url: string,
  durationS: number,
  point: SweepPoint,
): Promise<Measured<SweepPoint>> {
  const s = (
    await runBench({
      url,
      model: o.model,
      transport: 'rest-json',
      concurrency: [o.concurrency],
      durationS,
      inputFile: o.inputFile,
      timeoutMs: 30_000,
    })
  ).steps[0]!;
  return { point, throughput: s.throughput, p50: s.latencyMs.p50, p99: s.latencyMs.p99, failed: s.failed };
}

const failed = (point: SweepPoint, error: string): Measured<SweepPoint> => ({
  point: { ...point, error },
  throughput: 0,
  p50: 0,
  p99: 0,
  failed: 1,
});

async function measure(o: SweepOptions, config: Obj, point: SweepPoint): Promise<Measured<SweepPoint>> {
  let server: TuneServer;
  try {
    server = await serve(o, config);
  } catch (e) {
    return failed(point, (e as Error).message);
  }
  try {
    if (o.warmupS > 0) await step(o, server.url, o.warmupS, point);
    return await step(o, server.url, o.durationS, point);
  } catch (e) {
    return failed(point, (e as Error).message);
  } finally {
    await server.stop();
  }
}

/**
 * The confirmation step (confirm.ts): the current config and the candidate each on its own server,
 * both warmed up, then `rounds` alternating steps (only one under load at a time).
 */
export async function confirmRounds(
  o: SweepOptions,
  candidate: Candidate,
  rounds: number,
): Promise<ConfirmRound<SweepPoint>[]> {
  const sides = [
    { key: 'current' as const, config: o.config, point: { label: 'current', current: true } },
    {
      key: 'candidate' as const,
      config: applyCandidate(o.config, candidate),
      point: { label: label(candidate), candidate },
    },
  ];
  const servers: TuneServer[] = [];
  try {
    for (const side of sides) servers.push(await serve(o, side.config));
    for (const [i, side] of sides.entries()) {
      if (o.warmupS > 0) await step(o, servers[i]!.url, o.warmupS, side.point);
    }
    const out: ConfirmRound<SweepPoint>[] = [];
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? [0, 1] : [1, 0];
      const round: Partial<ConfirmRound<SweepPoint>> = {};
      for (const i of order) {
        const side = sides[i]!;
        round[side.key] = await step(o, servers[i]!.url, o.durationS, side.point).catch((e: unknown) =>
          failed(side.point, (e as Error).message),
        );
      }
      const done = round as ConfirmRound<SweepPoint>;
      o.onProgress?.(
        `  round ${r + 1}/${rounds}: current ${done.current.throughput.toFixed(0)} req/s, ${done.candidate.point.label} ${done.candidate.throughput.toFixed(0)} req/s`,
      );
      out.push(done);
    }
    return out;
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
}

/** The current config first, then every candidate, one at a time (they must not share the CPUs). */
export async function sweep(o: SweepOptions): Promise<Measured<SweepPoint>[]> {
  const out: Measured<SweepPoint>[] = [];
  const plan: Array<{ config: Obj; point: SweepPoint }> = [
    { config: o.config, point: { label: 'current', current: true } },
    ...o.candidates.map((c) => ({
      config: applyCandidate(o.config, c),
      point: { label: label(c), candidate: c },
    })),
  ];
  for (const [i, { config, point }] of plan.entries()) {
    o.onProgress?.(`[${i + 1}/${plan.length}] ${point.label}`);
    const m = await measure(o, config, point);
    o.onProgress?.(
      m.point.error
        ? `  failed: ${m.point.error.slice(0, 200)}`
        : `  ${m.throughput.toFixed(0)} req/s, p50 ${m.p50.toFixed(2)} ms, p99 ${m.p99.toFixed(2)} ms`,
    );
    out.push(m);
  }
  return out;
}
