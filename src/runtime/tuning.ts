/**
 * Self-tuned defaults for a model whose config leaves out instances, threads, batch size or
 * pipelining: chosen at load from the CPU quota and a short calibration run of the model itself
 * (execution time against batch size, one intra-op thread). Pure: the ONNX backend measures,
 * this decides, and every choice carries its reason (reported in /v2/models/{m}/config and the load
 * log). A value the config gives is kept as it is.
 */

/** One calibration point: `rows` in one execution took `us` (fastest of a few runs, one intra-op thread). */
export interface ExecPoint {
  rows: number;
  us: number;
}

export interface TuningInput {
  /** Whole CPUs this process may use (cpu-quota.ts). */
  quota: number;
  /** Sorted by rows, at least one point (rows 1). */
  curve: readonly ExecPoint[];
  /** Every input and output has a dynamic first dimension and the config lets it batch. */
  canBatch: boolean;
  /** What the config sets; undefined = choose. */
  explicit: {
    instances?: number;
    threads?: number;
    maxBatchSize?: number;
    pipelineDepth?: number;
    execution?: 'worker' | 'inline';
    idleInlineRows?: number;
  };
  /** Event-loop CPU per request (µs): decoding, scheduling, answering. */
  eventLoopUsPerRequest?: number;
}

export interface Tuned {
  /** Run on the event loop's thread instead of worker threads (inline.ts). */
  inline: boolean;
  instances: number;
  threads: number;
  /** 0 = no batching. */
  maxBatchSize: number;
  pipelineDepth: number;
  /** Upper bound of the adaptive batch window (µs) when the config sets no queue delay. */
  maxQueueDelayUs: number;
  /** Worker execution only: executions of up to this many rows run inline while the model is idle (0 = never). */
  idleInlineRows: number;
  /** Field → why it has its value ("config" when the config set it). */
  reasons: Record<string, string>;
}

/**
 * Event-loop CPU per small JSON request on the 2-core bench machine: the HTTP ceiling (same
 * parsing, same answer, no inference) serves ~9–12k req/s on one core (bench/results/scheduler.md).
 */
const EVENT_LOOP_US_PER_REQUEST = 90;
/** Below this execution time intra-op threads do not pay: waking a pool thread costs tens of µs. */
const PARALLEL_MIN_US = 1000;
/** A batch should not hold its rows much longer than a single row's execution, nor above this. */
const BATCH_BUDGET_US = 2000;
/**
 * A full batch shorter than this is handed over early (pipeline_depth 2): the event loop ↔ worker
 * hand-off (~50–100 µs) is then worth hiding, and the batch handed over early waits at most this
 * long beyond reach of cancellation and priority.
 */
const PIPELINE_MAX_US = 5000;
/**
 * A model whose full batch runs within this runs inline, on the event loop: a round trip to a
 * worker thread costs more (≥ 50–100 µs idle, ms on a busy machine), and blocking the event loop
 * this long costs about what parsing one small JSON body does.
 */
const INLINE_MAX_US = 100;
/**
 * A longer full batch still runs inline when its compute per row is at most this share of the event
 * loop's own work per request: a worker thread could then take at most that share off the event
 * loop, and it costs its hand-off (postMessage, copies, a wake-up) and a core of its own. Measured
 * on spam (its synthetic calibration: 64 rows in 117–229 µs, 2–4 µs a row against ~90 µs of event
 * loop per request): inline served 14.1k req/s at concurrency 64 against 11.4k on a worker thread,
 * p99 10 against 29 ms, with the load generator on the same 2 CPUs (8 alternating wrk rounds,
 * bench/results/spam-defaults.md).
 */
const INLINE_MAX_LOOP_SHARE = 0.1;
/** ...as long as one execution holds the event loop no longer than this. */
const INLINE_BATCH_MAX_US = 1000;
/**
 * A model served by worker threads still runs an execution this short inline when none of its
 * executions is in flight (low load): at one request at a time the two thread hand-offs, not the
 * model, were most of the latency (spam: p50 0.8 ms on workers, 0.46 ms inline, 0.41 ms for the
 * naive server that runs ORT on its event loop; bench/results/fast-defaults.md). Under load the
 * workers are busy and batches go to them; an idle execution blocks the event loop at most this long.
 */
const IDLE_INLINE_MAX_US = 200;
/** The largest batch calibrated and chosen without a config (Triton's perf_analyzer range). */
export const MAX_TUNED_BATCH = 64;

const fmt = (us: number): string => (us >= 1000 ? `${(us / 1000).toFixed(1)} ms` : `${Math.round(us)} µs`);

/** Execution time for `rows`: linear between calibration points, linear beyond the last two. */
export function execUs(curve: readonly ExecPoint[], rows: number): number {
  if (curve.length === 0) return 0;
  if (curve.length === 1 || rows <= curve[0]!.rows) {
    const p = curve[0]!;
    return curve.length === 1 ? (p.us * rows) / p.rows : p.us;
  }
  let i = 1;
  while (i < curve.length - 1 && curve[i]!.rows < rows) i++;
  const a = curve[i - 1]!;
  const b = curve[i]!;
  const slope = b.rows === a.rows ? 0 : (b.us - a.us) / (b.rows - a.rows);
  return Math.max(a.us, a.us + slope * (rows - a.rows));
}

/**
 * The curve with measurement noise removed where it contradicts two facts about a batch: it never
 * costs more per row than a smaller batch (it could run as smaller batches), and it never runs
 * faster than a smaller batch. Each point is lowered, never raised, to meet both. On the shared
 * bench machine a preempted run is the usual noise: spam at 64 rows measured 8–208 ms against
 * 1.7 ms at 32; 1 row measured 34–59 µs and 64 rows 16 µs (a cold start).
 */
export function monotone(curve: readonly ExecPoint[]): ExecPoint[] {
  const out = [...curve].sort((a, b) => a.rows - b.rows).map((p) => ({ ...p }));
  let perRow = Infinity;
  for (const p of out) {
    p.us = Math.min(p.us, perRow * p.rows);
    perRow = Math.min(perRow, p.us / p.rows);
  }
  for (let i = out.length - 2; i >= 0; i--) out[i]!.us = Math.min(out[i]!.us, out[i + 1]!.us);
  return out;
}

/** The cheapest per-row cost on the curve (µs/row) and the batch that reaches it. */
function bestPerRow(curve: readonly ExecPoint[]): { rows: number; us: number } {
  let best = { rows: curve[0]!.rows, us: curve[0]!.us / curve[0]!.rows };
  for (const p of curve) if (p.us / p.rows < best.us) best = { rows: p.rows, us: p.us / p.rows };
  return best;
}

export function chooseDefaults(input: TuningInput): Tuned {
  const { quota, curve, explicit } = input;
  const loopUs = input.eventLoopUsPerRequest ?? EVENT_LOOP_US_PER_REQUEST;
  const reasons: Record<string, string> = {};
  const t1 = execUs(curve, 1);

  // Batch size first: the execution time it implies decides threads and pipelining.
  let maxBatchSize: number;
  if (explicit.maxBatchSize !== undefined) {
    maxBatchSize = explicit.maxBatchSize;
    reasons.max_batch_size = 'config';
  } else if (!input.canBatch) {
    maxBatchSize = 0;
    reasons.max_batch_size = 'the model has no dynamic first dimension: it cannot batch';
  } else {
    const budget = Math.max(BATCH_BUDGET_US, 2 * t1);
    const fits = curve.filter((p) => p.rows <= MAX_TUNED_BATCH && p.us <= budget);
    maxBatchSize = fits.length > 0 ? fits[fits.length - 1]!.rows : 1;
    reasons.max_batch_size =
      `largest calibrated batch that runs within ${fmt(budget)} ` +
      `(${maxBatchSize} rows: ${fmt(execUs(curve, maxBatchSize))}; 1 row: ${fmt(t1)})`;
  }
  const fullUs = execUs(curve, Math.max(1, maxBatchSize));
  const small = t1 < PARALLEL_MIN_US;

  let threads: number;
  let instances: number;
  if (small) {
    threads = explicit.threads ?? 1;
    reasons.intra_op_num_threads =
      explicit.threads !== undefined
        ? 'config'
        : `1: one row takes ${fmt(t1)}, below the ${fmt(PARALLEL_MIN_US)} where intra-op threads pay`;
    if (explicit.instances !== undefined) {
      instances = explicit.instances;
      reasons.instance_count = 'config';
    } else {
      // One instance computes a row in `perRow` µs; the event loop hands out one request per
      // `loopUs` µs, in bursts (an I/O phase full of requests, then a batch), so twice the smooth
      // ratio: a row at ≥ half the event loop's cost gets a second instance. Spam (54 µs a row): 2
      // single-threaded instances served 13,885 req/s against 12,375 with one (bench/models.mjs).
      // More instances than that only compete with the event loop for the cores.
      const perRow = bestPerRow(curve).us;
      const need = Math.ceil((2 * perRow) / loopUs);
      instances = Math.max(1, Math.min(Math.max(1, Math.floor(quota / threads)), need));
      reasons.instance_count =
        `${instances}: a row costs ${fmt(perRow)} of compute at best, the event loop ~${fmt(loopUs)} ` +
        `per request; ${quota} CPU(s)`;
    }
  } else {
    instances = explicit.instances ?? 1;
    reasons.instance_count =
      explicit.instances !== undefined
        ? 'config'
        : `1: one row takes ${fmt(t1)}; its intra-op threads use the ${quota} CPU(s)`;
    threads = explicit.threads ?? Math.max(1, Math.floor(quota / instances));
    reasons.intra_op_num_threads =
      explicit.threads !== undefined ? 'config' : `${threads}: ${quota} CPU(s) / ${instances} instance(s)`;
  }

  const rowUs = fullUs / Math.max(1, maxBatchSize);
  const cheapRows = fullUs <= INLINE_BATCH_MAX_US && rowUs <= INLINE_MAX_LOOP_SHARE * loopUs;
  const inline =
    explicit.execution === 'inline' ||
    (explicit.execution === undefined &&
      explicit.instances === undefined &&
      explicit.pipelineDepth === undefined &&
      small &&
      (fullUs <= INLINE_MAX_US || cheapRows));
  if (explicit.execution !== undefined) reasons.execution = 'config';
  else if (inline)
    reasons.execution =
      fullUs <= INLINE_MAX_US
        ? `inline: a full batch runs in ${fmt(fullUs)}, less than a round trip to a worker thread`
        : `inline: a full batch runs in ${fmt(fullUs)}, ${fmt(rowUs)} a row, under ` +
          `${INLINE_MAX_LOOP_SHARE * 100}% of the event loop's ~${fmt(loopUs)} per request: a worker ` +
          'thread would save the event loop less than its hand-off costs';
  else
    reasons.execution = `worker threads: ${
      explicit.instances !== undefined || explicit.pipelineDepth !== undefined
        ? 'the config sets instances or pipelining'
        : `a full batch runs ${fmt(fullUs)} (${fmt(rowUs)} a row), above the ${fmt(INLINE_MAX_US)} ` +
          `the event loop may spend on one, and a row costs more than ${INLINE_MAX_LOOP_SHARE * 100}% ` +
          `of its ~${fmt(loopUs)} per request or the batch more than ${fmt(INLINE_BATCH_MAX_US)}`
    }`;
  if (inline) {
    instances = 1;
    if (explicit.instances === undefined) reasons.instance_count = '1: inline, on the event loop';
  }

  let pipelineDepth: number;
  if (inline) {
    pipelineDepth = explicit.pipelineDepth ?? 1;
    reasons.pipeline_depth =
      explicit.pipelineDepth !== undefined ? 'config' : '1: inline, nothing to hand over';
  } else if (explicit.pipelineDepth !== undefined) {
    pipelineDepth = explicit.pipelineDepth;
    reasons.pipeline_depth = 'config';
  } else if (fullUs < PIPELINE_MAX_US) {
    pipelineDepth = 2;
    reasons.pipeline_depth =
      `2: a full batch runs in ${fmt(fullUs)}, so the worker would idle for the event loop's ` +
      `hand-off between executions`;
  } else {
    pipelineDepth = 1;
    reasons.pipeline_depth = `1: a full batch runs ${fmt(fullUs)}; queued requests stay cancelable`;
  }

  let idleInlineRows = 0;
  if (explicit.idleInlineRows !== undefined) {
    idleInlineRows = inline ? 0 : explicit.idleInlineRows;
    reasons.idle_inline = 'config';
  } else if (inline) {
    reasons.idle_inline = 'off: every execution runs inline';
  } else if (explicit.execution !== undefined || explicit.instances !== undefined || !small) {
    reasons.idle_inline = `off: ${
      explicit.execution !== undefined || explicit.instances !== undefined
        ? 'the config sets execution or instances'
        : `one row takes ${fmt(t1)}`
    }`;
  } else {
    const fits = curve.filter((p) => p.us <= IDLE_INLINE_MAX_US && p.rows <= Math.max(1, maxBatchSize));
    idleInlineRows = fits.length > 0 ? fits[fits.length - 1]!.rows : 0;
    reasons.idle_inline =
      idleInlineRows > 0
        ? `up to ${idleInlineRows} row(s) (${fmt(execUs(curve, idleInlineRows))}) run on the event loop ` +
          `while no execution is in flight: at low load that saves two thread hand-offs`
        : `off: one row takes ${fmt(t1)}, above the ${fmt(IDLE_INLINE_MAX_US)} the event loop may spend on one`;
  }

  // Waiting longer than one full execution never pays: that time would have run a whole batch.
  const maxQueueDelayUs = maxBatchSize > 1 ? Math.min(1000, Math.max(50, Math.round(fullUs))) : 0;
  reasons.max_queue_delay_microseconds =
    maxBatchSize > 1
      ? `adaptive window up to ${fmt(maxQueueDelayUs)} (one full batch's execution, at most 1 ms); ` +
        'it waits only when the arrival rate is above what the free instances serve at the queued batch size'
      : 'no batching: no window';
  return {
    inline,
    instances,
    threads,
    maxBatchSize,
    pipelineDepth,
    maxQueueDelayUs,
    idleInlineRows,
    reasons,
  };
}

/** What a backend chose at load and why; the model manager reports it and sizes the scheduler. */
export interface BackendTuning {
  inline: boolean;
  instances: number;
  threads: number;
  pipelineDepth: number;
  threadPriority: string;
  /** Set only when the config left max_batch_size out (and the model can batch: > 0). */
  maxBatchSize?: number;
  /** Upper bound of the adaptive window for a config without a queue delay (µs). */
  maxQueueDelayUs: number;
  /** Executions of up to this many rows run inline while none is in flight (0 = never). */
  idleInlineRows: number;
  /** Calibration; empty when it failed (the reasons say why). */
  curve: ExecPoint[];
  reasons: Record<string, string>;
}
