/**
 * `inferd tune` without the command line: for the current config and each candidate, a server over
 * a copy of the repository where only the tuned model's config differs (every other file is a
 * symlink), a warm-up step, then one measured closed-loop step at the given concurrency.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runBench } from '../run.js';
import type { Measured } from './pareto.js';
import { startTuneServer } from './server-process.js';
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

async function measure(o: SweepOptions, config: Obj, point: SweepPoint): Promise<Measured<SweepPoint>> {
  const root = mkdtempSync(join(tmpdir(), 'inferd-tune-'));
  const failed = (error: string): Measured<SweepPoint> => ({
    point: { ...point, error },
    throughput: 0,
    p50: 0,
    p99: 0,
    failed: 1,
  });
  try {
    const repo = overlay(root, o.repository, o.model, config);
    let server;
    try {
      server = await startTuneServer(o.serverBin, repo, o.model, join(root, 'data'));
    } catch (e) {
      return failed((e as Error).message);
    }
    try {
      const bench = (durationS: number) =>
        runBench({
          url: server.url,
          model: o.model,
          transport: 'rest-json',
          concurrency: [o.concurrency],
          durationS,
          inputFile: o.inputFile,
          timeoutMs: 30_000,
        });
      if (o.warmupS > 0) await bench(o.warmupS);
      const step = (await bench(o.durationS)).steps[0]!;
      return {
        point,
        throughput: step.throughput,
        p50: step.latencyMs.p50,
        p99: step.latencyMs.p99,
        failed: step.failed,
      };
    } catch (e) {
      return failed((e as Error).message);
    } finally {
      await server.stop();
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
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
