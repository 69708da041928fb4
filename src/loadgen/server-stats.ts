/**
 * The server's own view of a bench step: the difference of `/v2/models/{m}/stats` (Triton's
 * statistics extension) taken before and after the step. Durations there are cumulative ns.
 */
import type { ModelStatistics } from '../core/statistics.js';

export interface ServerSplit {
  /** Batch rows computed during the step (inference_count delta). */
  inferences: number;
  /** Model executions during the step (execution_count delta). */
  executions: number;
  /** Average time a request waited in the scheduler's queue, µs. */
  avgQueueUs: number;
  /** Average compute (input + infer + output) per request, µs. */
  avgComputeUs: number;
  /** inferences / executions: the batch size the dynamic batcher achieved. */
  avgBatch: number;
}

export type StatsSnapshot = Pick<ModelStatistics, 'inference_count' | 'execution_count' | 'inference_stats'>;

/** Reads the summed statistics of every version of `model`; undefined when the server has none. */
export async function fetchStats(restUrl: string, model: string): Promise<StatsSnapshot | undefined> {
  let res: Response;
  try {
    res = await fetch(`${restUrl.replace(/\/+$/, '')}/v2/models/${encodeURIComponent(model)}/stats`);
  } catch {
    return undefined;
  }
  if (!res.ok) return undefined;
  const body = (await res.json()) as { model_stats?: ModelStatistics[] };
  const list = body.model_stats ?? [];
  if (list.length === 0) return undefined;
  // Several loaded versions: the step's requests may go to any of them, so sum all.
  const sum: StatsSnapshot = structuredClone({
    inference_count: list[0]!.inference_count,
    execution_count: list[0]!.execution_count,
    inference_stats: list[0]!.inference_stats,
  });
  for (const s of list.slice(1)) {
    sum.inference_count += s.inference_count;
    sum.execution_count += s.execution_count;
    for (const k of Object.keys(sum.inference_stats) as Array<keyof StatsSnapshot['inference_stats']>) {
      sum.inference_stats[k].count += s.inference_stats[k].count;
      sum.inference_stats[k].ns += s.inference_stats[k].ns;
    }
  }
  return sum;
}

export function statsDelta(before: StatsSnapshot, after: StatsSnapshot): ServerSplit {
  const d = (k: keyof StatsSnapshot['inference_stats']) => ({
    count: after.inference_stats[k].count - before.inference_stats[k].count,
    ns: after.inference_stats[k].ns - before.inference_stats[k].ns,
  });
  const queue = d('queue');
  const input = d('compute_input');
  const infer = d('compute_infer');
  const output = d('compute_output');
  const inferences = after.inference_count - before.inference_count;
  const executions = after.execution_count - before.execution_count;
  return {
    inferences,
    executions,
    avgQueueUs: queue.count === 0 ? 0 : queue.ns / queue.count / 1000,
    avgComputeUs: infer.count === 0 ? 0 : (input.ns + infer.ns + output.ns) / infer.count / 1000,
    avgBatch: executions === 0 ? 0 : inferences / executions,
  };
}
