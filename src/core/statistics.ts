/**
 * Triton's statistics-extension shapes (counts and cumulative ns), shared by the service that
 * answers them, the observer that writes them (observability/stats.ts) and the load generator.
 * `inference_count` counts requests' batch rows; `execution_count` counts model executions, so
 * inference_count / execution_count is the average batch size actually achieved.
 */

export interface Duration {
  count: number;
  ns: number;
}

export interface BatchStats {
  batch_size: number;
  compute_input: Duration;
  compute_infer: Duration;
  compute_output: Duration;
}

export interface ModelStatistics {
  name: string;
  version: string;
  last_inference: number;
  inference_count: number;
  execution_count: number;
  inference_stats: {
    success: Duration;
    fail: Duration;
    queue: Duration;
    compute_input: Duration;
    compute_infer: Duration;
    compute_output: Duration;
    cache_hit: Duration;
    cache_miss: Duration;
  };
  batch_stats: BatchStats[];
}
