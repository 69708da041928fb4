/**
 * How many CPUs this process may really use. ONNX Runtime sizes its thread pool from the host's
 * cores and ignores container limits (cgroup cpu.max), so we read the cgroup quota ourselves.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

function readFile(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** cgroup v2 `cpu.max` ("max 100000" or "150000 100000"), then v1 cfs quota/period. */
function cgroupCpuLimit(root = '/sys/fs/cgroup'): number | undefined {
  const v2 = readFile(`${root}/cpu.max`);
  if (v2) {
    const [quota, period] = v2.split(/\s+/);
    if (quota && quota !== 'max' && period) return Number(quota) / Number(period);
    return undefined;
  }
  const quota = Number(readFile(`${root}/cpu/cpu.cfs_quota_us`));
  const period = Number(readFile(`${root}/cpu/cpu.cfs_period_us`));
  if (quota > 0 && period > 0) return quota / period;
  return undefined;
}

/** Whole CPUs available: the cgroup quota rounded up (at least 1), capped by the visible cores. */
export function cpuQuota(): number {
  const cores = availableParallelism();
  const limit = cgroupCpuLimit();
  if (limit === undefined) return cores;
  return Math.max(1, Math.min(cores, Math.ceil(limit)));
}

/** Intra-op threads per instance so that instances × threads ≤ the quota. */
export function defaultIntraOpThreads(instances: number, quota = cpuQuota()): number {
  return Math.max(1, Math.floor(quota / Math.max(1, instances)));
}
