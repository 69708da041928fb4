/**
 * Unloading one version of a model while its other versions serve: what a finished rollout does to
 * the version it replaced once the rollback window ends (docs/lifecycle.md#rollout). Triton unloads
 * per model; a version leaves only when the version policy stops selecting it. Here the rollout is
 * a second reason for a version to leave, with the same lifecycle and the reason kept:
 *   READY → UNLOADING(reason) → UNAVAILABLE(reason)
 * The retired version stays listed beside the others (repository index, metadata errors), so a
 * request naming it is told why it no longer serves, and a reload of the model does not load it
 * again for as long as the manager's `retiredVersion` says so.
 */
import type { ModelConfig } from '../core/model-config.js';
import type { Metrics } from '../observability/metrics.js';
import { ModelObserver } from '../observability/model-observer.js';
import { ModelVersion } from './model-version.js';

/** What retiring needs of the model manager: its models' versions and its per-model lock. */
interface Models {
  get(name: string): { versions: ReadonlyMap<string, ModelVersion> } | undefined;
  exclusive<T>(name: string, fn: () => Promise<T>): Promise<T>;
}

/**
 * Retires `version` of `name` if it is READY: new requests are refused with `reason` at once,
 * queued and executing ones finish (the scheduler drains), then its backend is released. Runs under
 * the model's lock, so it never interleaves with a load or unload of the model. Resolves to whether
 * anything was unloaded (false: no such version, or it was not READY).
 */
export function retireVersion(
  models: Models,
  name: string,
  version: string,
  reason: string,
): Promise<boolean> {
  return models.exclusive(name, async () => {
    const v = models.get(name)?.versions.get(version);
    if (!v?.ready) return false;
    // Never the model's last serving version: a model with no version serves nobody.
    const others = [...(models.get(name)?.versions.values() ?? [])].some((o) => o !== v && o.ready);
    if (!others) return false;
    v.retired = true;
    await v.retire(reason);
    return true;
  });
}

/**
 * The versions a (re)load selected that must stay unloaded, each with its reason; never all of them
 * (a model keeps at least the versions it would otherwise serve).
 */
export function retiredAmong(
  versions: readonly number[],
  reasonOf: ((version: string) => string | undefined) | undefined,
): Map<string, string> {
  const out = new Map<string, string>();
  if (!reasonOf) return out;
  for (const v of versions) {
    const reason = reasonOf(String(v));
    if (reason !== undefined) out.set(String(v), reason);
  }
  return out.size === versions.length ? new Map() : out;
}

/**
 * Puts each retired version into the reloaded model's `next` versions: the current object when it
 * serves or was retired already (a READY one is returned to be retired after the swap, so that
 * requests it holds finish), else a version that never loads, UNAVAILABLE with the reason.
 */
export function placeRetired(
  retired: ReadonlyMap<string, string>,
  current: ReadonlyMap<string, ModelVersion>,
  next: Map<string, ModelVersion>,
  make: { name: string; config: ModelConfig; metrics: Metrics },
): Array<() => Promise<void>> {
  const later: Array<() => Promise<void>> = [];
  for (const [version, reason] of retired) {
    const old = current.get(version);
    if (old?.ready || old?.retired) {
      next.set(version, old);
      old.retired = true;
      if (old.ready) later.push(() => old.retire(reason));
      continue;
    }
    // A version that failed to load before: its metric labels pass to the one that says why now.
    old?.detachStateMetric();
    const observer = new ModelObserver(make.metrics, make.name, version);
    const never = new ModelVersion(make.name, version, make.config, observer);
    never.retired = true;
    never.setState('UNAVAILABLE', reason);
    next.set(version, never);
  }
  return later;
}
