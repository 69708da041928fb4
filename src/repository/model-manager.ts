/**
 * Loads, reloads and unloads the models of one repository (a folder, or a bucket: source/). A
 * reload reads the repository again and loads every new version fully before the versions it
 * replaces stop serving (no failed request during a swap); a model that fails to load is
 * UNAVAILABLE with its reason and the others keep serving, and a reload whose every version fails
 * keeps the versions that serve.
 */
import { clip } from '../core/clip.js';
import type { Logger } from 'pino';
import { InferdError } from '../errors.js';
import { ModelObserver } from '../observability/model-observer.js';
import type { Metrics } from '../observability/metrics.js';
import type { Backend, BackendFactory, ModelInvoker } from '../runtime/backend.js';
import { Scheduler } from '../scheduler/scheduler.js';
import { backendName, type ConfigSection, type ModelConfig } from '../core/model-config.js';
import { ModelVersion } from './model-version.js';
import { cycleReason, findCycle } from './call-graph.js';
import { selectVersions } from './scan.js';
import { verifyLineage } from './lineage.js';
import { readDriftReference } from './drift-reference.js';
import { DriftWindow } from '../observability/drift-window.js';
import { applyTuning, autoComplete, DEFAULT_MAX_BATCH_SIZE } from './auto-complete.js';
import { execUs } from '../runtime/tuning.js';
import { readOutputLabels } from './labels.js';
import { calibrationSample, runWarmup, warmupSamples } from './warmup.js';
import { placeRetired, retiredAmong } from './version-retire.js';
import type { ModelSnapshot, RepositorySource } from './repository-source.js';

export interface ModelEntry {
  name: string;
  config: ModelConfig | undefined;
  /** Version → its current ModelVersion. */
  versions: Map<string, ModelVersion>;
  /** Model-level failure (bad config, no versions); versions may still serve from an earlier load. */
  error: string | undefined;
  /** Explicitly unloaded through the repository API. */
  unloaded: boolean;
}

export interface IndexEntry {
  name: string;
  version?: string;
  state: string;
  reason: string;
}

export interface ManagerOptions {
  source: RepositorySource;
  backends: BackendFactory[];
  metrics: Metrics;
  logger: Logger;
  /** Calls back into the serving path (pipelines call other models). */
  invoker: ModelInvoker;
  /** Config sections owned outside the repository (backends, the /v1 API), validated on read. */
  configSections?: readonly ConfigSection[];
  /** max_batch_size that auto-complete gives a model that can batch (auto-complete.ts); 0 = none. */
  defaultMaxBatchSize?: number;
  /** Warm models without `model_warmup` with one synthetic request (warmup.ts); default true. */
  syntheticWarmup?: boolean;
  /**
   * Why a version the policy selects stays unloaded (a finished rollout retired it:
   * version-retire.ts), or undefined to load it. Asked at every load and reload.
   */
  retiredVersion?: (model: string, version: string, config: ModelConfig) => string | undefined;
}

/**
 * The scheduler's queue bound: `max_queue_size` as Triton reads it (0 = no bound), or when unset a
 * few full batches per instance, so that a server nobody tuned still sheds load instead of queueing
 * without end.
 */
export function queueBound(cfg: ModelConfig, concurrency: number): number {
  const configured = cfg.dynamic_batching?.max_queue_size;
  if (configured === 0) return Number.POSITIVE_INFINITY;
  return configured ?? Math.max(64, 4 * Math.max(1, cfg.max_batch_size) * concurrency);
}

export class ModelManager {
  /** The repository as the user named it (an absolute folder or a bucket URI). */
  readonly root: string;
  private readonly source: RepositorySource;
  private readonly entries = new Map<string, ModelEntry>();
  private readonly locks = new Map<string, Promise<unknown>>();
  /**
   * While loadAll runs: the calls of every model in the repository, read from disk first, so that
   * the members of a cycle are all refused whatever order their concurrent loads finish in.
   */
  private startupCalls: Map<string, string[]> | undefined;
  /** While loadAll runs: each model's folder as read for startupCalls, so it is read once. */
  private startupSnapshots = new Map<string, ModelSnapshot>();
  private readonly callsOfConfig = new WeakMap<ModelConfig, string[]>();

  constructor(private readonly opts: ManagerOptions) {
    this.source = opts.source;
    this.root = opts.source.location;
  }

  get(name: string): ModelEntry | undefined {
    return this.entries.get(name);
  }

  all(): ModelEntry[] {
    return [...this.entries.values()];
  }

  /** Loads every model of the repository; never throws for a single bad model. */
  async loadAll(): Promise<void> {
    const names = await this.source.listModelNames();
    const calls = new Map<string, string[]>();
    // A few at a time: on object storage each is a listing and a config download (round trips).
    const pending = [...names];
    const openNext = async (): Promise<void> => {
      for (let name = pending.shift(); name !== undefined; name = pending.shift()) {
        try {
          const snapshot = await this.source.openModel(name, this.opts.configSections ?? []);
          this.startupSnapshots.set(name, snapshot);
          calls.set(name, this.callsOf(snapshot.config));
        } catch {
          // A config that cannot be read fails its own load, with its reason.
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, openNext));
    this.startupCalls = calls;
    try {
      // One model's repository failure (its folder could not be listed) is that model's reason.
      await Promise.all(
        names.map((n) =>
          this.load(n).catch((err: unknown) => {
            const reason = err instanceof Error ? err.message : String(err);
            this.entry(n).error = this.publicText(reason);
            this.opts.logger.error({ model: n, reason }, 'model unavailable');
          }),
        ),
      );
    } finally {
      this.startupCalls = undefined;
      this.startupSnapshots.clear();
    }
  }

  /** A reason as clients may read it: paths relative to the repository (public-reason.ts). */
  private publicText(text: string): string {
    return this.source.publicText(text);
  }

  /** The models a backend of this config calls (pipelines), remembered per config object. */
  private callsOf(cfg: ModelConfig): string[] {
    let calls = this.callsOfConfig.get(cfg);
    if (!calls) {
      const wanted = backendName(cfg);
      const factory = this.opts.backends.find((b) => b.name === wanted || b.platform === wanted);
      calls = factory?.dependencies?.(cfg) ?? [];
      this.callsOfConfig.set(cfg, calls);
    }
    return calls;
  }

  /**
   * A cycle of calls that `name` with config `cfg` would close among the models that serve now
   * (their READY versions) and, during start-up, every model of the repository.
   */
  private callCycle(name: string, cfg: ModelConfig): string[] | undefined {
    const own = this.callsOf(cfg);
    if (own.length === 0) return undefined;
    return findCycle(name, (model) => {
      if (model === name) return own;
      const calls = new Set(this.startupCalls?.get(model));
      for (const v of this.entries.get(model)?.versions.values() ?? []) {
        if (v.ready) for (const c of this.callsOf(v.config)) calls.add(c);
      }
      return calls;
    });
  }

  /** True while any version is still loading. */
  get loading(): boolean {
    for (const e of this.entries.values())
      for (const v of e.versions.values()) if (v.state === 'LOADING') return true;
    return false;
  }

  /** Repository index: every model folder, loaded or not (Triton's RepositoryIndex). */
  async index(): Promise<IndexEntry[]> {
    let onDisk: string[];
    try {
      onDisk = await this.source.listModelNames();
    } catch (err) {
      const e = err instanceof InferdError ? err : new InferdError('internal', String(err));
      this.opts.logger.error({ err }, 'model repository cannot be read');
      throw new InferdError(e.code, this.publicText(e.message), { cause: err });
    }
    const names = new Set([...onDisk, ...this.entries.keys()]);
    const out: IndexEntry[] = [];
    for (const name of [...names].sort()) {
      const e = this.entries.get(name);
      if (!e || (e.versions.size === 0 && !e.error)) {
        out.push({ name, state: e?.unloaded ? 'UNAVAILABLE' : '', reason: e?.unloaded ? 'unloaded' : '' });
        continue;
      }
      if (e.versions.size === 0) out.push({ name, state: 'UNAVAILABLE', reason: e.error ?? '' });
      for (const v of e.versions.values())
        out.push({ name, version: v.version, state: v.state, reason: v.reason });
    }
    return out;
  }

  /**
   * Loads (or reloads) a model from the repository, or from `override` (the repository API's load
   * with a config or files: load-override.ts). A failure leaves the model UNAVAILABLE with its
   * reason (loaded(): false); it throws only for what is not the model's own fault.
   */
  load(name: string, override?: ModelSnapshot): Promise<void> {
    return this.exclusive(name, () => this.doLoad(name, override));
  }

  /** Whether a version of the model serves; else the reason its last load failed. */
  loadOutcome(name: string): { ready: true } | { ready: false; reason: string } {
    const e = this.entries.get(name);
    const versions = [...(e?.versions.values() ?? [])];
    if (versions.some((v) => v.ready)) return { ready: true };
    // A model-level error often repeats its only version's reason: say it once.
    const own = versions.filter((v) => v.reason && v.reason !== e?.error);
    const reasons = [e?.error, ...own.map((v) => `version ${v.version}: ${v.reason}`)];
    return { ready: false, reason: reasons.filter(Boolean).join('; ') || 'no version loaded' };
  }

  unload(name: string): Promise<void> {
    return this.exclusive(name, () => this.doUnload(name));
  }

  async unloadAll(): Promise<void> {
    await Promise.all([...this.entries.keys()].map((n) => this.unload(n)));
  }

  /** Runs `fn` after every earlier load, unload or retirement of the model has finished. */
  async exclusive<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(name) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    this.locks.set(
      name,
      next.catch(() => undefined),
    );
    return next;
  }

  private entry(name: string): ModelEntry {
    let e = this.entries.get(name);
    if (!e) {
      e = { name, config: undefined, versions: new Map(), error: undefined, unloaded: false };
      this.entries.set(name, e);
    }
    return e;
  }

  private async doLoad(name: string, override?: ModelSnapshot): Promise<void> {
    const opened = override ?? this.startupSnapshots.get(name);
    this.startupSnapshots.delete(name);
    if (!opened && !(await this.source.modelExists(name))) {
      throw new InferdError('model_not_found', `no model folder '${clip(name)}' in the model repository`);
    }
    const entry = this.entry(name);
    let snapshot: ModelSnapshot;
    let cfg: ModelConfig;
    let versions: number[];
    try {
      snapshot = opened ?? (await this.source.openModel(name, this.opts.configSections ?? []));
      cfg = snapshot.config;
      versions = selectVersions(cfg, snapshot.versions, name);
      if (versions.length === 0) {
        throw new InferdError(
          'invalid_config',
          `model '${name}' has no integer version folder (e.g. ${name}/1/)`,
        );
      }
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      entry.error = this.publicText(reason);
      this.opts.logger.error({ model: name, reason }, 'model unavailable');
      if (entry.versions.size === 0) return;
      const code = err instanceof InferdError ? err.code : 'invalid_config';
      throw new InferdError(code, entry.error, { cause: err });
    }
    const retired = retiredAmong(versions, (v) => this.opts.retiredVersion?.(name, v, cfg));
    // Load every selected version before touching the ones that serve now.
    const fresh = await Promise.all(
      versions
        .filter((v) => !retired.has(String(v)))
        .map((v) => this.loadVersion(name, String(v), () => snapshot.fetchVersion(v), cfg)),
    );
    // From here to the swap nothing awaits: the check of calls and the swap are one step, so two
    // pipelines that load at once cannot both pass it and close a cycle between them.
    const refused: Array<Promise<void>> = [];
    const cycle = fresh.some((v) => v.ready) ? this.callCycle(name, cfg) : undefined;
    if (cycle) {
      const reason = cycleReason(cycle);
      this.opts.logger.error({ model: name, reason }, 'model refused: its calls form a cycle');
      for (const v of fresh) if (v.ready) refused.push(v.refuse(reason));
    }
    const next = new Map<string, ModelVersion>();
    const retiring: ModelVersion[] = [];
    // Nothing new loaded (a half-uploaded version, a failed download) while something serves: the
    // serving versions stay, the failed ones are listed beside them with their reasons.
    const keepServing = fresh.every((v) => !v.ready) && [...entry.versions.values()].some((v) => v.ready);
    if (keepServing) {
      for (const [version, old] of entry.versions) if (old.ready) next.set(version, old);
      for (const v of fresh) if (!next.has(v.version)) next.set(v.version, v);
      this.opts.logger.error(
        { model: name, versions: fresh.map((v) => v.version), reason: fresh.map((v) => v.reason).join('; ') },
        'reload failed; the versions that served are kept',
      );
    }
    for (const v of keepServing ? [] : fresh) {
      const old = entry.versions.get(v.version);
      if (!v.ready && old?.ready) {
        // A failed reload keeps the version that serves now (Triton's behaviour).
        next.set(v.version, old);
        this.opts.logger.error(
          { model: name, version: v.version, reason: v.reason },
          'reload failed; old version kept',
        );
        continue;
      }
      next.set(v.version, v);
      if (old) {
        old.detachStateMetric();
        retiring.push(old);
      }
    }
    const metrics = this.opts.metrics;
    const retireAfter = placeRetired(retired, entry.versions, next, { name, config: cfg, metrics });
    for (const [version, old] of entry.versions) if (!next.has(version)) retiring.push(old);
    entry.config = cfg;
    entry.error =
      fresh.every((v) => !v.ready) && !keepServing ? fresh.map((v) => v.reason).join('; ') : undefined;
    entry.unloaded = false;
    entry.versions = next; // the swap: new requests now resolve to the new versions
    await Promise.all([
      ...refused,
      ...retiring.map((v) => v.retire('replaced by a reload')),
      ...retireAfter.map((retire) => retire()),
    ]);
  }

  private async loadVersion(
    name: string,
    version: string,
    /** The version's local folder: fetched here, so a failed download makes this version UNAVAILABLE. */
    fetchDir: () => Promise<string>,
    cfg: ModelConfig,
  ): Promise<ModelVersion> {
    const observer = new ModelObserver(this.opts.metrics, name, version);
    const mv = new ModelVersion(name, version, cfg, observer);
    const started = performance.now();
    const wanted = backendName(cfg);
    const factory = this.opts.backends.find((b) => b.name === wanted || b.platform === wanted);
    try {
      if (!factory) {
        throw new InferdError(
          'invalid_config',
          `unknown backend/platform '${wanted}'; available: ${this.opts.backends.map((b) => b.name).join(', ')}`,
        );
      }
      // Checked again at the swap (doLoad); this first check saves loading what would be refused.
      const cycle = this.callCycle(name, cfg);
      if (cycle) throw new InferdError('invalid_config', cycleReason(cycle));
      const dir = await fetchDir();
      mv.lineage = (await verifyLineage(dir)) as Readonly<Record<string, unknown>> | undefined;
      mv.outputLabels = await readOutputLabels(name, dir, cfg);
      const reference = await readDriftReference(dir, this.opts.logger, { model: name, version });
      const backend = await factory.load({
        modelName: name,
        version,
        versionDir: dir,
        config: cfg,
        invoker: this.opts.invoker,
        logger: this.opts.logger,
        events: observer,
        calibrationSample: await calibrationSample(cfg, dir),
      });
      mv.backend = backend;
      // From here on the completed config: what the backend filled in is what serves and reports.
      const tuning = backend.tuning;
      const hadScheduler = cfg.dynamic_batching !== undefined;
      cfg = autoComplete(
        cfg,
        backend.metadata,
        this.opts.defaultMaxBatchSize ?? tuning?.maxBatchSize ?? DEFAULT_MAX_BATCH_SIZE,
      );
      if (tuning) cfg = applyTuning(cfg, tuning, !hadScheduler);
      mv.config = cfg;
      const concurrency = backend.concurrency ?? cfg.instance_group?.reduce((n, g) => n + g.count, 0) ?? 1;
      const db = cfg.dynamic_batching;
      await this.warmUp(name, version, backend, cfg, dir, concurrency);
      // With a calibration curve the queue delay is the bound of an adaptive window (batch-window.ts).
      // Only when the config chose no batching of its own: an explicit max_queue_delay is Triton's
      // fixed wait (explicit settings win; the adaptive window is the default, not an override).
      const adaptive =
        tuning && tuning.curve.length > 1 && !hadScheduler
          ? { execMs: (rows: number) => execUs(tuning.curve, rows) / 1000, parallel: tuning.instances }
          : undefined;
      mv.metadata = backend.metadata;
      mv.scheduler = new Scheduler(
        backend,
        {
          maxBatchSize: cfg.max_batch_size,
          batching: db !== undefined && cfg.max_batch_size > 0,
          maxQueueDelayMs: (db?.max_queue_delay_microseconds ?? 0) / 1000,
          preferredBatchSizes: db?.preferred_batch_size ?? [],
          maxQueueSize: queueBound(cfg, concurrency),
          concurrency,
          retryAfterS: 1,
          ...(adaptive ? { adaptive } : {}),
        },
        observer,
      );
      const placements = backend.placements;
      if (placements) this.opts.metrics.placements({ model: name, version }, () => placements);
      if (reference) {
        mv.drift = new DriftWindow(reference);
        this.opts.metrics.driftWindow({ model: name, version }, mv.drift, () => mv.ready);
      }
      mv.setState('READY');
      this.opts.logger.info(
        { model: name, version, ms: Math.round(performance.now() - started), concurrency },
        'model version ready',
      );
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      // A backend that loaded and then failed (a warm-up error) releases its workers.
      await mv.backend?.unload().catch(() => undefined);
      mv.backend = undefined;
      mv.setState('UNAVAILABLE', this.publicText(reason));
      // The full text (absolute paths, ONNX Runtime's own words) for the operator only.
      this.opts.logger.error({ model: name, version, reason }, 'model version failed to load');
    }
    return mv;
  }

  /**
   * Runs the version's warm-up before it is READY (warmup.ts): a configured warm-up that fails
   * fails the load (Triton's rule); a synthetic one only logs a warning.
   */
  private async warmUp(
    name: string,
    version: string,
    backend: Backend,
    cfg: ModelConfig,
    dir: string,
    concurrency: number,
  ): Promise<void> {
    const { kind, samples } = warmupSamples(cfg, backend.metadata, this.opts.syntheticWarmup ?? true);
    if (samples.length === 0) return;
    const started = performance.now();
    try {
      const executions = await runWarmup({
        backend,
        config: cfg,
        versionDir: dir,
        concurrency,
        samples,
        synthetic: kind === 'synthetic',
      });
      const ms = Math.round(performance.now() - started);
      this.opts.logger.info(
        { model: name, version, warmup: kind, executions, ms },
        'model version warmed up',
      );
    } catch (err) {
      if (kind === 'configured') throw err;
      const reason = err instanceof Error ? err.message : String(err);
      this.opts.logger.warn(
        { model: name, version, reason: this.publicText(reason) },
        'synthetic warm-up failed; the version serves without it (give it a model_warmup)',
      );
    }
  }

  private async doUnload(name: string): Promise<void> {
    const entry = this.entries.get(name);
    if (!entry) {
      if (await this.source.modelExists(name)) return;
      throw new InferdError('model_not_found', `no model '${clip(name)}' in the repository`);
    }
    const versions = [...entry.versions.values()];
    entry.versions = new Map();
    entry.unloaded = true;
    entry.error = undefined;
    await Promise.all(versions.map((v) => v.retire('unloaded')));
  }
}
