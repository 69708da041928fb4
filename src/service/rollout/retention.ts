/**
 * The end of a promote's rollback window: the version the promote replaced is unloaded once
 * `retainUntil` has passed (docs/lifecycle.md#rollout), on every replica, unless something other
 * than the rollout wants it loaded.
 *
 * Which previous versions leave (retentionOf):
 *   - the model's `version_policy` is `latest` (N newest): the window a rollout needs, candidate and
 *     production side by side; once the rollout is done the old one has no other reason to stay.
 *   - `all` or `specific` names versions on purpose (clients may pin them): the version stays.
 *   - an alias other than `production` (the rollout's own) names it: it stays, so the alias works.
 * Every replica arms a timer at `retainUntil` for each promoted state it adopts, reads the store
 * again when it fires (a rollback taken meanwhile on another replica wins: rollback is refused after
 * `retainUntil`, so a state read after it is final), then retires the version (version-retire.ts).
 */
import type { ModelConfig } from '../../core/model-config.js';
import type { RolloutState } from './state.js';

/** What the end of retention means for the previous version of one promoted rollout. */
type Retention =
  { retire: true; version: string; reason: string } | { retire: false; version: string; why: string };

/**
 * undefined while nothing is due (no promote, retention running, rolled back); else whether the
 * previous version leaves, with the reason a request naming it is told, or why it stays.
 */
export function retentionOf(
  s: RolloutState | undefined,
  now: number,
  config: Pick<ModelConfig, 'version_policy' | 'aliases'> | undefined,
): Retention | undefined {
  if (s?.phase !== 'promoted' || s.retainUntil === null || now <= s.retainUntil) return undefined;
  const version = s.production;
  if (version === s.candidate || !config) return undefined;
  const policy = config.version_policy;
  if (!('latest' in policy)) {
    const which = 'all' in policy ? 'all' : 'specific';
    return { retire: false, version, why: `version_policy ${which} loads it` };
  }
  const alias = Object.entries(config.aliases).find(([a, v]) => a !== 'production' && v === version);
  if (alias) return { retire: false, version, why: `alias '${alias[0]}' names it` };
  const ended = new Date(s.retainUntil).toISOString();
  return {
    retire: true,
    version,
    reason: `retired after promote of version ${s.candidate} (rollback window ended ${ended})`,
  };
}

interface RetentionOptions {
  /** The newest stored state of a model, read from the store now (a rollback elsewhere wins). */
  reread(model: string): Promise<RolloutState | undefined>;
  /** The model's config as loaded (its version policy and aliases), if the model is loaded. */
  configOf(model: string): ModelConfig | undefined;
  /** Unloads the version, draining what it holds; true when it was READY and is gone now. */
  retire(model: string, version: string, reason: string): Promise<boolean>;
  /** Retention ended and the version stays (said once per rollout, for the log). */
  kept?(model: string, version: string, why: string): void;
  retired?(model: string, version: string, reason: string): void;
  failed?(model: string, err: unknown): void;
  now?: () => number;
}

/** The longest setTimeout Node honours (2³¹−1 ms); a longer wait is re-armed when it fires. */
const MAX_TIMER_MS = 2_147_483_647;

export class RetentionWatcher {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly said = new Set<string>();
  private readonly now: () => number;
  private stopped = false;

  constructor(private readonly opts: RetentionOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** A state this replica adopted (started, promoted, rolled back, read from the store). */
  adopted(s: RolloutState): void {
    const timer = this.timers.get(s.model);
    if (timer) clearTimeout(timer);
    this.timers.delete(s.model);
    if (this.stopped || s.phase !== 'promoted' || s.retainUntil === null) return;
    // retentionOf needs now > retainUntil: one millisecond past it.
    const wait = s.retainUntil + 1 - this.now();
    const check = (): void => void this.check(s.model);
    if (wait <= 0) check();
    else this.timers.set(s.model, setTimeout(check, Math.min(wait, MAX_TIMER_MS)).unref());
  }

  /** Reads the state again and retires the previous version if its retention is over. */
  async check(model: string): Promise<void> {
    this.timers.delete(model);
    try {
      const s = await this.opts.reread(model);
      if (this.stopped || !s) return;
      const r = retentionOf(s, this.now(), this.opts.configOf(model));
      if (!r) {
        // Not yet (a timer capped at MAX_TIMER_MS, or a clock behind the writer's): wait again.
        const early = s.phase === 'promoted' && s.retainUntil !== null && this.now() <= s.retainUntil;
        if (early && !this.timers.has(model)) this.adopted(s);
        return;
      }
      const key = `${model}@${s.revision}`;
      if (!r.retire) {
        if (!this.said.has(key)) this.opts.kept?.(model, r.version, r.why);
        this.said.add(key);
        return;
      }
      if (await this.opts.retire(model, r.version, r.reason)) this.opts.retired?.(model, r.version, r.reason);
    } catch (err) {
      this.opts.failed?.(model, err);
    }
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}
