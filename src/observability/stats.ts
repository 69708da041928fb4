/**
 * Per-version statistics in Triton's statistics-extension shape (counts and cumulative ns), the one
 * place they are kept (written by ModelObserver).
 * `inference_count` counts requests' batch rows; `execution_count` counts model executions, so
 * inference_count / execution_count is the average batch size actually achieved.
 */

import type { BatchStats, Duration, ModelStatistics } from '../core/statistics.js';

const zero = (): Duration => ({ count: 0, ns: 0 });

function add(d: Duration, ns: number, count = 1): void {
  d.count += count;
  d.ns += ns;
}

export class VersionStats {
  private lastInference = 0;
  private inferenceCount = 0;
  private executionCount = 0;
  private readonly inference = {
    success: zero(),
    fail: zero(),
    queue: zero(),
    compute_input: zero(),
    compute_infer: zero(),
    compute_output: zero(),
    cache_hit: zero(),
    cache_miss: zero(),
  };
  private readonly batches = new Map<number, BatchStats>();

  constructor(
    readonly name: string,
    readonly version: string,
  ) {}

  /** One model execution of `requests` requests totalling `rows` batch rows. */
  recordExecution(rows: number, requests: number, inputNs: number, inferNs: number, outputNs: number): void {
    this.executionCount += 1;
    this.inferenceCount += rows;
    this.lastInference = Date.now();
    let b = this.batches.get(rows);
    if (!b) {
      b = { batch_size: rows, compute_input: zero(), compute_infer: zero(), compute_output: zero() };
      this.batches.set(rows, b);
    }
    add(b.compute_input, inputNs);
    add(b.compute_infer, inferNs);
    add(b.compute_output, outputNs);
    // Per-request compute durations: each request of the batch waited for the whole execution.
    add(this.inference.compute_input, inputNs * requests, requests);
    add(this.inference.compute_infer, inferNs * requests, requests);
    add(this.inference.compute_output, outputNs * requests, requests);
  }

  recordQueue(ns: number): void {
    add(this.inference.queue, ns);
  }

  /** End-to-end duration of a request that succeeded or failed (any reason, as Triton counts). */
  recordRequest(ok: boolean, ns: number): void {
    add(ok ? this.inference.success : this.inference.fail, ns);
  }

  /**
   * Triton's cache counters: a hit's ns is the lookup; a miss's ns is the lookup and the insertion
   * (the model's own time goes to the compute durations as usual). A hit also counts as a success.
   */
  recordCache(hit: boolean, ns: number): void {
    add(hit ? this.inference.cache_hit : this.inference.cache_miss, ns);
  }

  snapshot(): ModelStatistics {
    const copy = (d: Duration): Duration => ({ ...d });
    return {
      name: this.name,
      version: this.version,
      last_inference: this.lastInference,
      inference_count: this.inferenceCount,
      execution_count: this.executionCount,
      inference_stats: {
        success: copy(this.inference.success),
        fail: copy(this.inference.fail),
        queue: copy(this.inference.queue),
        compute_input: copy(this.inference.compute_input),
        compute_infer: copy(this.inference.compute_infer),
        compute_output: copy(this.inference.compute_output),
        cache_hit: copy(this.inference.cache_hit),
        cache_miss: copy(this.inference.cache_miss),
      },
      batch_stats: [...this.batches.values()]
        .sort((a, b) => a.batch_size - b.batch_size)
        .map((b) => ({
          batch_size: b.batch_size,
          compute_input: copy(b.compute_input),
          compute_infer: copy(b.compute_infer),
          compute_output: copy(b.compute_output),
        })),
    };
  }
}
