/**
 * `inferd tune MODEL`: Triton's Model Analyzer in one command. Sweeps instances × threads × max
 * batch × queue delay × pipeline depth on servers it starts itself (loopback, one at a time, over
 * a copy of the repository where only the model's config differs), measures throughput and p99 at
 * one concurrency, prints the Pareto front, writes the recommended config fragment (config.json and
 * config.pbtxt) and a throughput-against-p99 SVG. The current config is measured in the same run,
 * and the winner is confirmed against it side by side in alternating rounds (confirm.ts) before it
 * is recommended: on a machine whose speed drifts, one step each is not enough to tell them apart.
 *
 * Exit status: 0 with a recommendation, 1 when none (every candidate failed, or none fits the
 * latency budget), 2 on a usage error.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError, type Command } from 'commander';
import { paretoFront, recommend, type Measured } from '../../loadgen/tune/pareto.js';
import {
  candidates,
  defaultSpace,
  jsonFragment,
  label,
  pbtxtFragment,
  type SweepSpace,
} from '../../loadgen/tune/space.js';
import { plotSvg } from '../../loadgen/tune/svg.js';
import { confirmRounds, sweep, type SweepPoint } from '../../loadgen/tune/sweep.js';
import { judge, type ConfirmRound, type Verdict } from '../../loadgen/tune/confirm.js';
import { decodeTextFormat } from '../../repository/pbtxt/decode.js';
import { tritonModelConfigType } from '../../repository/pbtxt/triton-schema.js';

interface TuneFlags {
  modelRepository: string;
  concurrency: number;
  duration: number;
  warmup: number;
  latencyBudgetMs?: number;
  instances?: number[];
  threads?: number[];
  maxBatch?: number[];
  queueDelayUs?: number[];
  pipelineDepth?: number[];
  input?: string;
  out?: string;
  json?: boolean;
  confirmRounds: number;
}

/** Longest list per dimension: the product is bounded again by MAX_CANDIDATES. */
const MAX_LIST = 16;

function number(min: number, max: number, integer: boolean) {
  return (raw: string): number => {
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
      throw new InvalidArgumentError(
        `expected ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}`,
      );
    }
    return n;
  };
}

function list(min: number, max: number) {
  const one = number(min, max, true);
  return (raw: string): number[] => {
    const items = raw.split(',').map((s) => s.trim());
    if (items.length === 0 || items.length > MAX_LIST) {
      throw new InvalidArgumentError(`expected 1 to ${MAX_LIST} comma-separated values`);
    }
    return [...new Set(items.map(one))].sort((a, b) => a - b);
  };
}

/** The model's config as the repository holds it: config.json, or config.pbtxt in Triton's JSON shape. */
function readConfig(repository: string, model: string): Record<string, unknown> {
  const dir = join(repository, model);
  if (!existsSync(dir)) throw new Error(`no model '${model}' in ${repository}`);
  const json = join(dir, 'config.json');
  const pbtxt = join(dir, 'config.pbtxt');
  if (existsSync(json) && existsSync(pbtxt))
    throw new Error(`model '${model}' has both config.json and config.pbtxt`);
  if (existsSync(json)) return JSON.parse(readFileSync(json, 'utf8')) as Record<string, unknown>;
  if (existsSync(pbtxt)) return decodeTextFormat(readFileSync(pbtxt, 'utf8'), tritonModelConfigType()).value;
  return { name: model };
}

const serverBin = (): string =>
  resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', 'bin', 'inferd.js');

function table(
  all: readonly Measured<SweepPoint>[],
  front: readonly Measured<SweepPoint>[],
  chosen?: Measured<SweepPoint>,
): string {
  const rows = [...all].sort((a, b) => b.throughput - a.throughput);
  const lines = ['| setting | req/s | p50 ms | p99 ms | |', '|---|---:|---:|---:|---|'];
  for (const m of rows) {
    const mark = [
      m === chosen ? 'recommended' : '',
      front.includes(m) ? 'front' : '',
      m.point.error ? `failed: ${m.point.error.slice(0, 80)}` : '',
    ]
      .filter(Boolean)
      .join(', ');
    lines.push(
      `| ${m.point.label} | ${m.throughput.toFixed(0)} | ${m.p50.toFixed(2)} | ${m.p99.toFixed(2)} | ${mark} |`,
    );
  }
  return lines.join('\n') + '\n';
}

function confirmTable(
  candidate: string,
  c: { rounds: ConfirmRound<SweepPoint>[]; verdict: Verdict },
): string {
  const lines = [
    '',
    `## Confirmation: ${candidate} against the current config, side by side`,
    '',
    '| round | current req/s | current p99 ms | candidate req/s | candidate p99 ms | ratio |',
    '|---:|---:|---:|---:|---:|---:|',
    ...c.rounds.map(
      (r, i) =>
        `| ${i + 1} | ${r.current.throughput.toFixed(0)} | ${r.current.p99.toFixed(2)} | ${r.candidate.throughput.toFixed(0)} | ${r.candidate.p99.toFixed(2)} | ${(r.candidate.throughput / r.current.throughput).toFixed(3)} |`,
    ),
    '',
    `Median ratio ${c.verdict.ratio.toFixed(3)}: ${c.verdict.keep ? 'confirmed' : 'not confirmed, the current config stays'} (${c.verdict.reason}).`,
  ];
  return lines.join('\n') + '\n';
}

export function addTuneCommand(program: Command): void {
  program
    .command('tune')
    .description(
      'sweep instances, threads and batching for a model, print the Pareto front, write the best config and an SVG',
    )
    .argument('<model>', 'model to tune (an ONNX model of the repository)')
    .option('--model-repository <dir>', 'the model repository', 'models')
    .option('--concurrency <n>', 'closed-loop concurrency of each measurement', number(1, 4096, true), 64)
    .option('--duration <s>', 'seconds measured per setting', number(0.5, 600, false), 5)
    .option('--warmup <s>', 'seconds of unmeasured load before each measurement', number(0, 600, false), 1)
    .option(
      '--latency-budget-ms <ms>',
      'recommend the highest throughput with a p99 within this',
      number(0.01, 600_000, false),
    )
    .option('--instances <list>', 'instance counts to try (default 1,2,… up to the CPUs)', list(1, 64))
    .option('--threads <list>', 'intra-op threads per instance to try', list(1, 256))
    .option('--max-batch <list>', 'max_batch_size values to try (default 8,64)', list(0, 65536))
    .option(
      '--queue-delay-us <list>',
      'dynamic_batching.max_queue_delay_microseconds to try (default 0,500)',
      list(0, 10_000_000),
    )
    .option('--pipeline-depth <list>', 'onnxruntime.pipeline_depth values to try (default 1,2)', list(1, 4))
    .option(
      '--input <file>',
      'JSON requests to send (as inferd bench --input); default: synthesised from the metadata',
    )
    .option(
      '--confirm-rounds <n>',
      'side-by-side rounds of the winner against the current config before recommending it (0 = none)',
      number(0, 100, true),
      5,
    )
    .option('--out <dir>', 'where to write the results (default tune-<model>)')
    .option('--json', 'print the results as JSON')
    .action(async (model: string, flags: TuneFlags) => {
      const config = readConfig(flags.modelRepository, model);
      if (config.backend === 'pipeline' || config.platform === 'ensemble' || config.pipeline !== undefined) {
        throw new Error(
          `model '${model}' is a pipeline: tune the ONNX models its steps call, one at a time (e.g. inferd tune ocr-rec)`,
        );
      }
      const cpus = availableParallelism();
      const base = defaultSpace(cpus);
      const space: SweepSpace = {
        instances: flags.instances ?? base.instances,
        threads: flags.threads ?? base.threads,
        maxBatch: flags.maxBatch ?? base.maxBatch,
        queueDelayUs: flags.queueDelayUs ?? base.queueDelayUs,
        pipelineDepth: flags.pipelineDepth ?? base.pipelineDepth,
        cpus: Math.max(cpus, ...(flags.instances ?? [1])),
      };
      const list = candidates(space);
      process.stderr.write(
        `inferd tune ${model}: ${list.length} settings + the current config, ${flags.warmup}+${flags.duration} s each at concurrency ${flags.concurrency}\n`,
      );
      const results = await sweep({
        repository: flags.modelRepository,
        model,
        config,
        candidates: list,
        concurrency: flags.concurrency,
        durationS: flags.duration,
        warmupS: flags.warmup,
        inputFile: flags.input,
        serverBin: serverBin(),
        onProgress: (line) => process.stderr.write(`${line}\n`),
      });
      const front = paretoFront(results);
      let chosen = recommend(results, flags.latencyBudgetMs);
      let confirmation: { rounds: ConfirmRound<SweepPoint>[]; verdict: Verdict } | undefined;
      const winner = chosen?.point.candidate;
      if (winner && flags.confirmRounds > 0) {
        process.stderr.write(`confirming ${chosen!.point.label} against the current config, side by side\n`);
        const sweepOpts = {
          repository: flags.modelRepository,
          model,
          config,
          candidates: [],
          concurrency: flags.concurrency,
          durationS: flags.duration,
          warmupS: flags.warmup,
          inputFile: flags.input,
          serverBin: serverBin(),
          onProgress: (line: string) => process.stderr.write(`${line}\n`),
        };
        const rounds = await confirmRounds(sweepOpts, winner, flags.confirmRounds);
        confirmation = { rounds, verdict: judge(rounds, flags.latencyBudgetMs) };
        // Not confirmed: the current config stays (measured in the sweep; it is on the chart).
        if (!confirmation.verdict.keep) chosen = results.find((m) => m.point.current) ?? chosen;
      }
      const out = resolve(flags.out ?? `tune-${model}`);
      mkdirSync(out, { recursive: true });
      const title = `inferd tune ${model}: throughput against p99 at concurrency ${flags.concurrency}`;
      writeFileSync(join(out, 'tune.svg'), plotSvg(title, results, front, chosen));
      const summary = {
        model,
        concurrency: flags.concurrency,
        durationS: flags.duration,
        cpus,
        latencyBudgetMs: flags.latencyBudgetMs ?? null,
        recommended: chosen ? { label: chosen.point.label, ...chosen.point.candidate } : null,
        confirmation: confirmation
          ? {
              candidate: label(winner!),
              ...confirmation.verdict,
              rounds: confirmation.rounds.map((r) => ({
                current: { throughput: r.current.throughput, p99: r.current.p99, failed: r.current.failed },
                candidate: {
                  throughput: r.candidate.throughput,
                  p99: r.candidate.p99,
                  failed: r.candidate.failed,
                },
              })),
            }
          : null,
        results: results.map((m) => ({
          label: m.point.label,
          ...(m.point.candidate ?? {}),
          throughput: m.throughput,
          p50: m.p50,
          p99: m.p99,
          failed: m.failed,
          front: front.includes(m),
          ...(m.point.error ? { error: m.point.error } : {}),
        })),
      };
      writeFileSync(join(out, 'results.json'), JSON.stringify(summary, null, 2) + '\n');
      const report =
        table(results, front, chosen) + (confirmation ? confirmTable(label(winner!), confirmation) : '');
      writeFileSync(join(out, 'results.md'), `# ${title}\n\n${report}`);
      const cand = chosen?.point.candidate;
      if (cand) {
        writeFileSync(join(out, 'config.fragment.json'), JSON.stringify(jsonFragment(cand), null, 2) + '\n');
        writeFileSync(join(out, 'config.fragment.pbtxt'), pbtxtFragment(cand));
      } else if (chosen) {
        // The current config wins: an empty fragment, so that applying the result is always one step.
        const why = confirmation?.verdict.reason ?? 'it measured best in the sweep';
        writeFileSync(join(out, 'config.fragment.json'), '{}\n');
        writeFileSync(
          join(out, 'config.fragment.pbtxt'),
          `# inferd tune ${model}: keep the current config, nothing to change (${why})\n`,
        );
      }
      if (flags.json) process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
      else {
        process.stdout.write(report);
        process.stdout.write(
          chosen
            ? `\nrecommended: ${chosen.point.label}${cand ? '' : confirmation && !confirmation.verdict.keep ? ` (not confirmed: ${confirmation.verdict.reason})` : ' (the current config is already the best measured)'}\n` +
                `wrote ${out}/{results.md,results.json,tune.svg,config.fragment.json,config.fragment.pbtxt}${cand ? '' : ' (empty fragments: keep the current config)'}\n`
            : `\nno recommendation: ${flags.latencyBudgetMs !== undefined ? 'nothing met the latency budget' : 'every setting failed'}\n`,
        );
      }
      if (!chosen) process.exitCode = 1;
    });
}
