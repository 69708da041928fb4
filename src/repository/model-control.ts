/**
 * Triton's model control modes (--model-control-mode), over the model manager:
 *   none     — every model loads at start; the repository API's load and unload are refused.
 *   explicit — only the --load-model models load at start (`*` = all); the API loads and unloads,
 *              also with an override config or files (load-override.ts).
 *   poll     — every model loads at start, and the repository is read again every
 *              --repository-poll-secs: new models load, changed ones reload, removed ones unload.
 *              The API's load and unload are refused, as in Triton.
 * A load through the API that leaves no version READY is an error with the reason (HTTP 400).
 */
import { clip } from '../core/clip.js';
import type { Logger } from 'pino';
import { InferdError } from '../errors.js';
import type { ConfigSection } from '../core/model-config.js';
import type { ModelManager } from './model-manager.js';
import type { RepositorySource } from './repository-source.js';
import { OverrideStaging, type LoadOverride } from './load-override.js';

export type ModelControlMode = 'none' | 'explicit' | 'poll';

export interface ModelControlOptions {
  mode: ModelControlMode;
  /** Models loaded at start in explicit mode; `*` = every model. */
  loadAtStart: readonly string[];
  pollSecs: number;
  /** Where override files are written (one folder per load). */
  stagingDir: string;
  source: RepositorySource;
  sections: readonly ConfigSection[];
  logger: Logger;
}

export class ModelControl {
  private readonly staging: OverrideStaging;
  private timer: NodeJS.Timeout | undefined;
  /** Poll mode: each model's config and versions as last loaded, to see what changed. */
  private readonly seen = new Map<string, string>();
  private polling: Promise<void> | undefined;

  constructor(
    private readonly models: ModelManager,
    private readonly opts: ModelControlOptions,
  ) {
    this.staging = new OverrideStaging(opts.stagingDir);
  }

  get mode(): ModelControlMode {
    return this.opts.mode;
  }

  /** The start-up load of the mode; never throws for a single bad model. */
  async start(): Promise<void> {
    const wanted = this.opts.loadAtStart;
    if (this.opts.mode !== 'explicit' || wanted.includes('*')) {
      await this.models.loadAll();
    } else {
      await Promise.all(
        wanted.map((name) =>
          this.models.load(name).catch((err: unknown) => {
            this.opts.logger.error({ model: name, reason: (err as Error).message }, 'model unavailable');
          }),
        ),
      );
    }
    if (this.opts.mode === 'poll') {
      for (const name of await this.opts.source.listModelNames().catch(() => [])) {
        const fp = await this.fingerprint(name);
        if (fp !== undefined) this.seen.set(name, fp);
      }
      this.timer = setInterval(() => {
        this.polling ??= this.poll().finally(() => (this.polling = undefined));
      }, this.opts.pollSecs * 1000);
      this.timer.unref();
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.polling;
  }

  private refuseUnlessExplicit(): void {
    if (this.opts.mode !== 'explicit') {
      throw new InferdError(
        'model_control_disabled',
        `explicit model load / unload is not allowed if polling is enabled (model control mode is '${this.opts.mode}'; start with --model-control-mode explicit)`,
      );
    }
  }

  /** The repository API's load: throws with the reason when no version of the model serves after it. */
  async load(name: string, override?: LoadOverride): Promise<void> {
    this.refuseUnlessExplicit();
    try {
      await this.loadOrThrow(name, override);
    } catch (err) {
      // Triton's wording for a load that could not start (its clients look for "failed to load").
      if (!(err instanceof InferdError) || err.code === 'model_load_failed') throw err;
      throw new InferdError(
        err.code,
        `failed to load '${clip(name)}', failed to poll from model repository: ${err.message}`,
        { cause: err },
      );
    }
  }

  private async loadOrThrow(name: string, override?: LoadOverride): Promise<void> {
    const hasOverride =
      override !== undefined && (override.config !== undefined || (override.files?.size ?? 0) > 0);
    if (hasOverride && !(override.files?.size ?? 0) && !(await this.opts.source.modelExists(name))) {
      throw new InferdError('model_not_found', `no model folder '${clip(name)}' in the model repository`);
    }
    const snapshot = hasOverride
      ? await this.staging.snapshot(name, override, this.opts.source, this.opts.sections)
      : undefined;
    try {
      await this.models.load(name, snapshot);
    } finally {
      const outcome = this.models.loadOutcome(name);
      if (hasOverride) await this.staging.settle(name, outcome.ready);
      else if (outcome.ready) await this.staging.release(name);
    }
    const outcome = this.models.loadOutcome(name);
    if (!outcome.ready) {
      throw new InferdError('model_load_failed', `load failed for model '${clip(name)}': ${outcome.reason}`);
    }
  }

  async unload(name: string): Promise<void> {
    this.refuseUnlessExplicit();
    await this.models.unload(name);
    await this.staging.release(name);
  }

  /** What a reload would read: the config and the version folders (a changed file inside a version is not seen). */
  private async fingerprint(name: string): Promise<string | undefined> {
    try {
      const snap = await this.opts.source.openModel(name, this.opts.sections);
      return JSON.stringify([snap.config, snap.versions]);
    } catch (err) {
      // A config that cannot be read is a change too: the reload reports its reason.
      return `error:${(err as Error).message}`;
    }
  }

  /** One poll: load what is new or changed, unload what is gone. Errors are the models' reasons. */
  async poll(): Promise<void> {
    let names: string[];
    try {
      names = await this.opts.source.listModelNames();
    } catch (err) {
      this.opts.logger.error({ reason: (err as Error).message }, 'repository poll failed');
      return;
    }
    for (const name of names) {
      const fp = await this.fingerprint(name);
      if (fp === undefined || this.seen.get(name) === fp) continue;
      this.seen.set(name, fp);
      this.opts.logger.info({ model: name }, 'repository poll: loading new or changed model');
      await this.models.load(name).catch((err: unknown) => {
        this.opts.logger.error({ model: name, reason: (err as Error).message }, 'model unavailable');
      });
    }
    for (const name of [...this.seen.keys()]) {
      if (names.includes(name)) continue;
      this.seen.delete(name);
      this.opts.logger.info({ model: name }, 'repository poll: model removed, unloading');
      await this.models.unload(name).catch(() => undefined);
    }
  }
}
