/**
 * The settings `inferd tune` sweeps, as Triton's Model Analyzer does for instance count and batch
 * size: instances × intra-op threads × max batch × queue delay × pipeline depth, and how each
 * candidate is written into a model's config (config.json fields; Triton's JSON shape is accepted).
 */

export interface Candidate {
  /** `instance_group[0].count`. */
  instances: number;
  /** `onnxruntime.intra_op_num_threads`. */
  threads: number;
  /** `max_batch_size` (0 = no batching). */
  maxBatch: number;
  /** `dynamic_batching.max_queue_delay_microseconds`. */
  queueDelayUs: number;
  /** `onnxruntime.pipeline_depth`. */
  pipelineDepth: number;
}

export interface SweepSpace {
  instances: number[];
  threads: number[];
  maxBatch: number[];
  queueDelayUs: number[];
  pipelineDepth: number[];
  /** Candidates with instances × threads above this are left out (they only oversubscribe). */
  cpus: number;
}

/** Most candidates one sweep may hold: each costs a server start and a measured step. */
const MAX_CANDIDATES = 512;

/** The default grid for `cpus` cores: small enough to sweep in a few minutes on 2 cores. */
export function defaultSpace(cpus: number): SweepSpace {
  const upTo = (n: number): number[] =>
    [...new Set([1, 2, 4, 8].filter((x) => x <= n).concat(n))].sort((a, b) => a - b);
  return {
    instances: upTo(Math.min(cpus, 4)),
    threads: upTo(Math.min(cpus, 4)),
    maxBatch: [8, 64],
    queueDelayUs: [0, 500],
    pipelineDepth: [1, 2],
    cpus,
  };
}

/** Every combination within the CPU budget, in a stable order; queue delay only matters with batching. */
export function candidates(space: SweepSpace): Candidate[] {
  const out: Candidate[] = [];
  const seen = new Set<string>();
  for (const instances of space.instances) {
    for (const threads of space.threads) {
      if (instances * threads > space.cpus) continue;
      for (const maxBatch of space.maxBatch) {
        for (const delay of space.queueDelayUs) {
          const queueDelayUs = maxBatch > 0 ? delay : 0;
          for (const pipelineDepth of space.pipelineDepth) {
            const c = { instances, threads, maxBatch, queueDelayUs, pipelineDepth };
            const key = label(c);
            if (seen.has(key)) continue;
            seen.add(key);
            out.push(c);
          }
        }
      }
    }
  }
  if (out.length > MAX_CANDIDATES) {
    throw new Error(`the sweep has ${out.length} candidates; at most ${MAX_CANDIDATES}: narrow the lists`);
  }
  return out;
}

/** A short, stable name: `i2 t1 b64 d500 p2`. */
export function label(c: Candidate): string {
  return `i${c.instances} t${c.threads} b${c.maxBatch} d${c.queueDelayUs} p${c.pipelineDepth}`;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The model's config with the candidate's settings in place; every other field (inputs, labels,
 * aliases, signature…) is kept. Works on config.json's fields, Triton's JSON shape included.
 */
export function applyCandidate(config: Obj, c: Candidate): Obj {
  const out: Obj = structuredClone(config);
  out.max_batch_size = c.maxBatch;
  const group =
    Array.isArray(out.instance_group) && isObj(out.instance_group[0]) ? out.instance_group[0] : {};
  out.instance_group = [{ ...group, count: c.instances }];
  if (c.maxBatch > 0) {
    const db = isObj(out.dynamic_batching) ? out.dynamic_batching : {};
    out.dynamic_batching = { ...db, max_queue_delay_microseconds: c.queueDelayUs };
  } else {
    delete out.dynamic_batching;
  }
  const ort = isObj(out.onnxruntime) ? out.onnxruntime : {};
  out.onnxruntime = { ...ort, intra_op_num_threads: c.threads, pipeline_depth: c.pipelineDepth };
  return out;
}

/** The settings a candidate sets, as a config.json fragment to merge into the model's config. */
export function jsonFragment(c: Candidate): Obj {
  return {
    max_batch_size: c.maxBatch,
    ...(c.maxBatch > 0 ? { dynamic_batching: { max_queue_delay_microseconds: c.queueDelayUs } } : {}),
    instance_group: [{ count: c.instances, kind: 'KIND_CPU' }],
    onnxruntime: { intra_op_num_threads: c.threads, pipeline_depth: c.pipelineDepth },
  };
}

/**
 * The same in config.pbtxt (Triton's text format). Threads use the parameter of Triton's ONNX
 * Runtime backend (`intra_op_thread_count`); pipeline depth is inferd's own, under its
 * `pipeline_depth` parameter (both mapped by repository/triton-config.ts).
 */
export function pbtxtFragment(c: Candidate): string {
  const lines = [`max_batch_size: ${c.maxBatch}`];
  if (c.maxBatch > 0) lines.push(`dynamic_batching { max_queue_delay_microseconds: ${c.queueDelayUs} }`);
  lines.push(`instance_group [ { count: ${c.instances} kind: KIND_CPU } ]`);
  lines.push(`parameters { key: "intra_op_thread_count" value: { string_value: "${c.threads}" } }`);
  lines.push(`parameters { key: "pipeline_depth" value: { string_value: "${c.pipelineDepth}" } }`);
  return lines.join('\n') + '\n';
}
