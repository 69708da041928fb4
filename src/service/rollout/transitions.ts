/**
 * The rollout state machine, pure: each command takes the stored state (or none) and returns the
 * next one, or throws with a stable code. none → canary → promoted | rolled_back; a promoted
 * rollout may still be rolled back while the previous version is retained; a finished rollout is
 * replaced by the next start.
 */
import { InferdError } from '../../errors.js';
import { DEFAULT_POLICY, type RollbackPolicy, type RolloutState } from './state.js';

export interface StartCommand {
  model: string;
  production: string;
  candidate: string;
  percent: number;
  shadowPercent?: number;
  policy?: Partial<RollbackPolicy>;
  by: string;
  reason?: string;
}

const MAX_TEXT = 512;

function share(name: string, v: number): number {
  if (!Number.isFinite(v) || v < 0 || v > 100) {
    throw new InferdError(
      'invalid_request',
      `${name} must be a number from 0 to 100, got ${String(v).slice(0, 32)}`,
    );
  }
  return Math.round(v * 100) / 100;
}

/** A policy with every field bounded (a window from 1 s to 1 day, at least one sample). */
function checkPolicy(p: Partial<RollbackPolicy> = {}): RollbackPolicy {
  const out = { ...DEFAULT_POLICY, ...p };
  const bad = (f: string, range: string): never => {
    throw new InferdError('invalid_request', `rollback policy ${f} must be ${range}`);
  };
  if (!Number.isInteger(out.windowMs) || out.windowMs < 1000 || out.windowMs > 86_400_000)
    bad('windowMs', 'an integer from 1000 to 86400000');
  if (!Number.isInteger(out.minSamples) || out.minSamples < 1 || out.minSamples > 1_000_000)
    bad('minSamples', 'an integer from 1 to 1000000');
  if (!(out.errorRateMargin >= 0 && out.errorRateMargin <= 1)) bad('errorRateMargin', 'from 0 to 1');
  if (!(out.p99Margin >= 0 && out.p99Margin <= 100)) bad('p99Margin', 'from 0 to 100');
  if (!(out.p99SlackMs >= 0 && out.p99SlackMs <= 3_600_000)) bad('p99SlackMs', 'from 0 to 3600000');
  return out;
}

function conflict(message: string): never {
  throw new InferdError('rollout_conflict', message);
}

/** Starts a canary, or changes the shares and policy of the running one (same candidate). */
export function start(current: RolloutState | undefined, c: StartCommand, now: number): RolloutState {
  const percent = share('percent', c.percent);
  const shadowPercent = share('shadow percent', c.shadowPercent ?? 0);
  if (c.candidate === c.production) conflict(`version ${c.candidate} is already production of '${c.model}'`);
  const policy = checkPolicy(c.policy);
  const text = { by: c.by.slice(0, 128), reason: (c.reason ?? '').slice(0, MAX_TEXT) };
  if (current?.phase === 'canary') {
    if (current.candidate !== c.candidate) {
      conflict(
        `'${c.model}' already has a canary of version ${current.candidate}; promote or roll it back first`,
      );
    }
    return {
      ...current,
      percent,
      shadowPercent,
      policy,
      ...text,
      reason: text.reason || `shares changed to ${percent}% canary, ${shadowPercent}% shadow`,
      updatedAt: now,
      revision: current.revision + 1,
    };
  }
  return {
    model: c.model,
    phase: 'canary',
    production: c.production,
    candidate: c.candidate,
    percent,
    shadowPercent,
    policy,
    by: text.by,
    reason: text.reason || `canary of version ${c.candidate} started`,
    startedAt: now,
    updatedAt: now,
    retainUntil: null,
    revision: (current?.revision ?? 0) + 1,
  };
}

/** Moves every unversioned request to the candidate; production stays loaded for `retainMs`. */
export function promote(
  current: RolloutState | undefined,
  by: string,
  now: number,
  retainMs: number,
): RolloutState {
  if (current?.phase !== 'canary') conflict(`'${current?.model ?? '?'}' has no canary to promote`);
  return {
    ...current,
    phase: 'promoted',
    percent: 100,
    shadowPercent: 0,
    by: by.slice(0, 128),
    reason: `version ${current.candidate} promoted; version ${current.production} retained for instant rollback`,
    updatedAt: now,
    retainUntil: now + retainMs,
    revision: current.revision + 1,
  };
}

/**
 * Sends every unversioned request back to production: during a canary, or after promote while the
 * previous version is retained. `reason` says why (the rollback rule's words, or the operator's).
 */
export function rollBack(
  current: RolloutState | undefined,
  reason: string,
  by: string,
  now: number,
): RolloutState {
  if (!current || current.phase === 'rolled_back')
    conflict(`'${current?.model ?? '?'}' has no rollout to roll back`);
  if (current.phase === 'promoted' && (current.retainUntil === null || now > current.retainUntil)) {
    conflict(
      `version ${current.production} of '${current.model}' is no longer retained; start a new rollout`,
    );
  }
  return {
    ...current,
    phase: 'rolled_back',
    percent: 0,
    shadowPercent: 0,
    by: by.slice(0, 128),
    reason: reason.slice(0, MAX_TEXT),
    updatedAt: now,
    revision: current.revision + 1,
  };
}
