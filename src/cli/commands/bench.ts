/**
 * `inferd bench`: load generator in the spirit of Triton's perf_analyzer, built on the protocol
 * client (`InferClient`), so every transport is measured through the code customers use.
 */
import type { Command } from 'commander';
import type { Transport } from '../../oip-client/index.js';
import { formatReport } from '../../loadgen/report.js';
import { runBench } from '../../loadgen/run.js';
import { DEFAULT_HEAP_GROWING_PERCENT } from '../../config.js';
import { fixHeapGrowth } from '../process/heap-growth.js';

interface BenchFlags {
  url: string;
  model: string;
  modelVersion?: string;
  concurrency: string;
  rate?: string;
  duration: string;
  input?: string;
  transport: string;
  statsUrl?: string;
  timeoutMs: string;
  json?: boolean;
}

const TRANSPORTS: Transport[] = ['rest-json', 'rest-binary', 'grpc'];

function positive(name: string, raw: string, integer: boolean): number {
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    throw new Error(`${name} must be a positive ${integer ? 'integer' : 'number'}, got '${raw}'`);
  }
  return n;
}

/** A progress line on stderr: rewritten in place on a terminal, one line per update otherwise. */
function progressWriter(): { write: (line: string) => void; end: () => void } {
  const tty = process.stderr.isTTY === true;
  let shown = false;
  return {
    write: (line) => {
      if (tty) process.stderr.write(`\r\x1b[2K${line}`);
      else process.stderr.write(`${line}\n`);
      shown = true;
    },
    end: () => {
      if (tty && shown) process.stderr.write('\n');
    },
  };
}

export function addBenchCommand(program: Command): void {
  program
    .command('bench')
    .description('measure throughput and latency of a model on a running server (closed or open loop)')
    .requiredOption('--url <url>', 'server: http://host:port (REST) or host:port (gRPC)')
    .requiredOption('--model <name>', 'model to call')
    .option('--model-version <v>', 'model version (default: the model’s default)')
    .option(
      '--concurrency <list>',
      'closed loop: comma-separated concurrency levels, one step each',
      '1,8,64',
    )
    .option('--rate <r>', 'open loop: constant arrival rate in req/s (replaces --concurrency)')
    .option('--duration <s>', 'seconds per step', '10')
    .option(
      '--input <file>',
      'JSON requests to send round-robin: an Open Inference Protocol body, an array of them, or perf_analyzer\'s {"data": [...]} (default: synthesised)',
    )
    .option('--transport <t>', 'rest-json | rest-binary | grpc', 'rest-json')
    .option('--stats-url <url>', 'REST address for /v2/models/{m}/stats (default: --url for REST)')
    .option('--timeout-ms <ms>', 'per-request client timeout', '30000')
    .option('--json', 'print the report as JSON on stdout')
    .action(async (flags: BenchFlags) => {
      if (!TRANSPORTS.includes(flags.transport as Transport)) {
        throw new Error(`--transport must be one of ${TRANSPORTS.join(', ')}, got '${flags.transport}'`);
      }
      const concurrency = flags.concurrency.split(',').map((c) => positive('--concurrency', c.trim(), true));
      // The load generator answers the same bursts of refusals as the server: without this its own
      // full-GC storms would be counted as the server's latency.
      fixHeapGrowth(DEFAULT_HEAP_GROWING_PERCENT);
      const progress = progressWriter();
      const report = await runBench({
        url: flags.url,
        model: flags.model,
        modelVersion: flags.modelVersion,
        transport: flags.transport as Transport,
        concurrency,
        rate: flags.rate === undefined ? undefined : positive('--rate', flags.rate, false),
        durationS: positive('--duration', flags.duration, false),
        inputFile: flags.input,
        statsUrl: flags.statsUrl,
        timeoutMs: positive('--timeout-ms', flags.timeoutMs, true),
        onProgress: progress.write,
      });
      progress.end();
      process.stdout.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
      const failedAll = report.steps.some((s) => s.sent > 0 && s.ok === 0);
      if (failedAll) process.exitCode = 1;
    });
}
