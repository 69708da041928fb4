/**
 * The running side of rollouts: holds every model's state (read from the store at start, every
 * `reloadMs`, and after each change made here), answers which version an unversioned request goes
 * to, keeps both versions' sliding windows and rolls a failing canary back. A rollback takes effect
 * in this process at once (traffic returns to production with the next request), then is written
 * to the store, where the other replicas read it within `reloadMs`. Each replica judges its own
 * traffic; any one rolling back rolls back all.
 */
import { InferdError } from '../../errors.js';
import { judge } from './rollback.js';
import type { RolloutStore } from './rollout-store.js';
import { armOf, mirrored } from './split.js';
import { isActive, settledVersion, type RolloutState } from './state.js';
import { promote, rollBack, start, type StartCommand } from './transitions.js';
import { SlidingWindow } from './window.js';

/** What the controller reports, for metrics and logs (wired in the composition root). */
interface RolloutEvents {
  /** An unversioned request ran on one arm of a canary. */
  routed?(model: string, version: string, arm: 'production' | 'candidate'): void;
  /** A state changed here or was read from the store with a new revision. */
  changed?(state: RolloutState, previous: RolloutState | undefined): void;
  /** The rollback rule fired in this process. */
  rolledBack?(state: RolloutState): void;
  /** Reading or writing the store failed (the last known state keeps serving). */
  storeError?(err: unknown): void;
}

export interface RolloutOptions {
  store: RolloutStore;
  /** How often each replica reads the states again (ms). */
  reloadMs?: number;
  /** How long the previous version stays available after promote (ms). */
  retainMs: number;
  /** The least time between two judgements after a success (ms): judging merges the windows. */
  judgeEveryMs?: number;
  events?: RolloutEvents;
  now?: () => number;
}

interface Windows {
  startedAt: number;
  production: SlidingWindow;
  candidate: SlidingWindow;
  lastJudged: number;
}

export class RolloutController {
  private readonly states = new Map<string, RolloutState>();
  private readonly windows = new Map<string, Windows>();
  private timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;
  private rollingBack = new Set<string>();

  constructor(private readonly opts: RolloutOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** Reads the states and starts reloading them every `reloadMs`. */
  async start(): Promise<void> {
    await this.refresh();
    const every = this.opts.reloadMs ?? 2000;
    this.timer = setInterval(() => void this.refresh(), every);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Reads every state from the store; keeps the last known ones when the store fails. */
  async refresh(): Promise<void> {
    let all: RolloutState[];
    try {
      all = await this.opts.store.listRollouts();
    } catch (err) {
      this.opts.events?.storeError?.(err);
      return;
    }
    for (const s of all) this.adopt(s);
  }

  /** Takes `s` as the model's state when it is newer than ours (or always, with `force`). */
  private adopt(s: RolloutState, force = false): void {
    const prev = this.states.get(s.model);
    if (prev && prev.revision >= s.revision && !force) return;
    this.states.set(s.model, s);
    if (isActive(s)) {
      const w = this.windows.get(s.model);
      if (!w || w.startedAt !== s.startedAt) {
        this.windows.set(s.model, {
          startedAt: s.startedAt,
          production: new SlidingWindow(s.policy.windowMs),
          candidate: new SlidingWindow(s.policy.windowMs),
          lastJudged: 0,
        });
      }
    } else this.windows.delete(s.model);
    this.opts.events?.changed?.(s, prev);
  }

  state(model: string): RolloutState | undefined {
    return this.states.get(model);
  }

  list(): RolloutState[] {
    return [...this.states.values()];
  }

  /**
   * The version an unversioned request to `model` goes to: a canary arm by the sticky key, the
   * promoted or rolled-back-to version, or undefined (no rollout: the router's default).
   */
  route(model: string, stickyKey: string): string | undefined {
    const s = this.states.get(model);
    if (!s) return undefined;
    if (!isActive(s)) return settledVersion(s);
    return armOf(s, stickyKey) === 'candidate' ? s.candidate : s.production;
  }

  /**
   * An unversioned request about to run on `version` (counted here, not in route(): a transport may
   * resolve a request twice, and only the run counts).
   */
  served(model: string, version: string): void {
    const s = this.states.get(model);
    if (!isActive(s)) return;
    if (version === s.candidate) this.opts.events?.routed?.(model, version, 'candidate');
    else if (version === s.production) this.opts.events?.routed?.(model, version, 'production');
  }

  /**
   * Where a canary request that failed on the candidate is answered instead: production, while the
   * canary runs (a broken candidate is judged by its failures, but customers never see them).
   */
  fallbackOf(model: string, version: string): string | undefined {
    const s = this.states.get(model);
    return isActive(s) && version === s.candidate && s.production !== version ? s.production : undefined;
  }

  /** The candidate to mirror a request to, when this request (by its id) is in the shadow share. */
  shadowOf(model: string, version: string, requestKey: string): string | undefined {
    const s = this.states.get(model);
    if (!isActive(s) || s.shadowPercent <= 0 || version !== s.production) return undefined;
    return mirrored(s, requestKey) ? s.candidate : undefined;
  }

  /** One answered request of a model version; a canary's candidate is judged against production. */
  observe(model: string, version: string, ok: boolean, latencyMs: number): void {
    const s = this.states.get(model);
    if (!isActive(s)) return;
    const w = this.windows.get(model);
    if (!w) return;
    const now = this.now();
    if (version === s.production) w.production.record(now, ok, latencyMs);
    else if (version === s.candidate) w.candidate.record(now, ok, latencyMs);
    else return;
    // A candidate failure is judged at once (a broken candidate leaves at its minimum sample);
    // successes only move p99, judged at most every judgeEveryMs.
    if (version !== s.candidate || (ok && now - w.lastJudged < (this.opts.judgeEveryMs ?? 100))) return;
    w.lastJudged = now;
    const verdict = judge(s.policy, w.production.snapshot(now), w.candidate.snapshot(now));
    if (verdict.rollback) void this.autoRollback(s, verdict.reason);
  }

  /** The judgement of a canary right now (for the state's readers); undefined without a canary. */
  windowsOf(model: string): { production: unknown; candidate: unknown } | undefined {
    const w = this.windows.get(model);
    if (!w) return undefined;
    const now = this.now();
    return { production: w.production.snapshot(now), candidate: w.candidate.snapshot(now) };
  }

  private async autoRollback(s: RolloutState, why: string): Promise<void> {
    if (this.rollingBack.has(s.model)) return;
    this.rollingBack.add(s.model);
    const next = rollBack(s, `automatic rollback: ${why}`, 'inferd', this.now());
    // Here at once: the next request already goes to production.
    this.adopt(next);
    this.opts.events?.rolledBack?.(next);
    try {
      if (!(await this.opts.store.saveRollout(next, s.revision))) {
        // Another writer changed the rollout first (same revision number as ours): theirs stands,
        // and a candidate still failing under it is judged again at its next failure.
        const stored = await this.opts.store.getRollout(s.model);
        if (stored) this.adopt(stored, true);
      }
    } catch (err) {
      this.opts.events?.storeError?.(err);
    } finally {
      this.rollingBack.delete(s.model);
    }
  }

  /** Reads the model's stored state, applies `change`, writes it back against the revision read. */
  private async change(
    model: string,
    change: (cur: RolloutState | undefined) => RolloutState,
  ): Promise<RolloutState> {
    const cur = await this.opts.store.getRollout(model);
    const next = change(cur);
    if (!(await this.opts.store.saveRollout(next, cur?.revision ?? 0))) {
      throw new InferdError(
        'rollout_conflict',
        `the rollout of '${model}' changed meanwhile; read it again and retry`,
      );
    }
    this.adopt(next);
    return next;
  }

  startRollout(c: StartCommand): Promise<RolloutState> {
    return this.change(c.model, (cur) => start(cur, c, this.now()));
  }

  promote(model: string, by: string): Promise<RolloutState> {
    return this.change(model, (cur) => promote(existing(model, cur), by, this.now(), this.opts.retainMs));
  }

  rollBack(model: string, reason: string, by: string): Promise<RolloutState> {
    return this.change(model, (cur) =>
      rollBack(existing(model, cur), reason || `rolled back by ${by}`, by, this.now()),
    );
  }
}

function existing(model: string, s: RolloutState | undefined): RolloutState {
  if (!s) throw new InferdError('rollout_conflict', `'${model}' has no rollout`);
  return s;
}
