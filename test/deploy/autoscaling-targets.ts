/**
 * The queue-depth target per replica of each default model, derived from what decides it
 * (docs/deploy/autoscaling.md): a batching model is saturated once a full batch per instance waits
 * behind the one running, so the target is half of max_batch_size × instance count (headroom for
 * the minute a new pod takes to load); a model that does not batch (max_batch_size 0: the OCR
 * pipeline) runs one request per vCPU of the pod's CPU limit at full speed.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { maxBatchSizeGiven } from '../../src/core/model-config.js';
import { parseConfigFile } from '../../src/repository/config-file.js';
import { MAX_TUNED_BATCH } from '../../src/runtime/tuning.js';

/** The CPU limit every inferd pod runs with (the KServe runtime's; the plain Deployment matches it). */
function podCpuLimit(): number {
  const csr = parse(readFileSync('deploy/kserve/cluster-serving-runtime.yaml', 'utf8')) as {
    spec: { containers: { resources: { limits: { cpu: string } } }[] };
  };
  return Number(csr.spec.containers[0]!.resources.limits.cpu);
}

/** Target of inferd_pending_requests per replica for `model` of models/. */
export function pendingTarget(model: string): number {
  const cfg = parseConfigFile(
    { name: 'config.json', text: readFileSync(`models/${model}/config.json`, 'utf8') },
    model,
  );
  // A config without max_batch_size is self-tuned at load (src/runtime/tuning.ts): the largest
  // calibrated batch within the budget, at most MAX_TUNED_BATCH; spam on 2 vCPUs calibrates to 64
  // rows and one instance (bench/results/spam-defaults.md).
  const maxBatch = maxBatchSizeGiven(cfg) ? cfg.max_batch_size : MAX_TUNED_BATCH;
  if (maxBatch === 0) return podCpuLimit();
  // No instance_group: one execution at a time (src/core/model-config.ts).
  const instances = (cfg.instance_group ?? [{ count: 1 }]).reduce((n, g) => n + g.count, 0);
  return (maxBatch * instances) / 2;
}

/** The metric every autoscaler here reads. */
export const QUEUE_METRIC = 'inferd_pending_requests';
