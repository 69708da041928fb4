/**
 * Resolves a model name plus an optional version or alias to one READY model version.
 * No version: the version the `production` alias names when it is READY (so a new version written
 * into the repository serves only once promoted or canaried), else the highest READY version
 * (Triton's default). Aliases come from config `aliases`.
 */
import { clip } from '../core/clip.js';
import { InferdError, tritonWording } from '../errors.js';
import type { ModelEntry, ModelManager } from '../repository/model-manager.js';
import { isReady, type ModelVersion, type ReadyVersion } from '../repository/model-version.js';

export class Router {
  constructor(private readonly models: ModelManager) {}

  entry(name: string): ModelEntry {
    const e = this.models.get(name);
    if (!e) throw new InferdError('model_not_found', tritonWording.unknownModel(clip(name)));
    return e;
  }

  /** The version object, READY or not; throws when the model or version does not exist. */
  find(name: string, version?: string): ModelVersion {
    const e = this.entry(name);
    if (version === undefined || version === '') {
      const production = e.config?.aliases['production'];
      const chosen = production === undefined ? undefined : e.versions.get(production);
      if (chosen?.ready) return chosen;
      // Every request without a version comes here: a scan, no arrays or sorting.
      let ready: ModelVersion | undefined;
      let any: ModelVersion | undefined;
      for (const v of e.versions.values()) {
        if (!any || Number(v.version) > Number(any.version)) any = v;
        if (v.ready && (!ready || Number(v.version) > Number(ready.version))) ready = v;
      }
      if (ready) return ready;
      if (any) return any;
      const why = e.unloaded ? 'it is unloaded' : (e.error ?? 'it has no loaded version');
      throw new InferdError('model_unavailable', `model '${clip(name)}' is not available: ${why}`);
    }
    const target = /^\d+$/.test(version) ? String(Number(version)) : e.config?.aliases[version];
    if (target === undefined) {
      throw new InferdError(
        'version_not_found',
        `${tritonWording.malformedVersion(clip(version), `neither a version number nor an alias of model '${clip(name)}'`)}; versions: ${[...e.versions.keys()].join(', ') || 'none'}`,
      );
    }
    const v = e.versions.get(target);
    if (!v) {
      throw new InferdError(
        'version_not_found',
        `${tritonWording.unknownVersion(clip(name), clip(target))}; loaded: ${[...e.versions.keys()].join(', ') || 'none'}`,
      );
    }
    return v;
  }

  /** A READY version, or `model_unavailable` with the reason it is not. */
  resolve(name: string, version?: string): ReadyVersion {
    const v = this.find(name, version);
    if (!isReady(v)) {
      throw new InferdError(
        'model_unavailable',
        `model '${clip(name)}' version ${v.version} is ${v.state}${v.reason ? `: ${v.reason}` : ''}`,
      );
    }
    return v;
  }
}
