/**
 * The rollout commands of the admin API (admin token, like every /admin route; docs/lifecycle.md):
 *   GET  /admin/rollouts                  every model's rollout
 *   GET  /admin/rollouts/:model           one, with both versions' live windows on this replica and,
 *                                         after promote, the previous version's state here
 *   POST /admin/rollouts/:model           start a canary or change its shares {version, percent, …}
 *   POST /admin/rollouts/:model/promote   production := the candidate
 *   POST /admin/rollouts/:model/rollback  traffic back to production {reason?}
 * Each command reads the stored state, changes it and writes it back against the revision it read
 * (a concurrent change elsewhere is a 409 rollout_conflict), then this replica applies it at once.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { InferdError } from '../errors.js';
import type { InferenceService } from '../service/inference-service.js';
import type { RolloutState } from '../service/rollout/state.js';
import { jsonBody } from './admin.js';
import { formatTime } from './keys.js';
import { sendProblem } from './problem.js';

export interface RolloutAdminOptions {
  service: InferenceService;
  /** Moves an alias in the model repository (local repositories only), recording who and why. */
  moveAlias?: (model: string, alias: string, version: string, who: { by: string; reason: string }) => void;
}

const text = (max: number) => z.string().max(max);
const startBody = z.strictObject({
  version: z.union([z.string().regex(/^\d{1,18}$/), z.number().int().min(0)]).transform(String),
  percent: z.number().min(0).max(100),
  shadow_percent: z.number().min(0).max(100).optional(),
  /** Defaults to the `production` alias, else the version unversioned requests get today. */
  production: z
    .union([z.string().regex(/^\d{1,18}$/), z.number().int().min(0)])
    .transform(String)
    .optional(),
  reason: text(512).optional(),
  by: text(128).optional(),
  policy: z
    .strictObject({
      window_ms: z.number().int().optional(),
      min_samples: z.number().int().optional(),
      error_rate_margin: z.number().optional(),
      p99_margin: z.number().optional(),
      p99_slack_ms: z.number().optional(),
    })
    .optional(),
});
const byBody = z.strictObject({ reason: text(512).optional(), by: text(128).optional() });

/** The state as the admin API and the CLI show it (snake_case, ISO times). */
function publicRollout(s: RolloutState): Record<string, unknown> {
  return {
    model: s.model,
    phase: s.phase,
    production: s.production,
    candidate: s.candidate,
    percent: s.percent,
    shadow_percent: s.shadowPercent,
    reason: s.reason,
    by: s.by,
    started_at: formatTime(s.startedAt),
    updated_at: formatTime(s.updatedAt),
    retain_until: s.retainUntil === null ? null : formatTime(s.retainUntil),
    revision: s.revision,
    policy: {
      window_ms: s.policy.windowMs,
      min_samples: s.policy.minSamples,
      error_rate_margin: s.policy.errorRateMargin,
      p99_margin: s.policy.p99Margin,
      p99_slack_ms: s.policy.p99SlackMs,
    },
  };
}

/** Mounted beside the key routes (admin.ts), under /admin, with the same error shape. */
export async function registerRolloutAdmin(app: FastifyInstance, opts: RolloutAdminOptions): Promise<void> {
  await app.register(
    (admin, _opts, done) => {
      admin.setErrorHandler((err, req, reply) => sendProblem(err, req, reply));
      rolloutRoutes(admin, opts);
      done();
    },
    { prefix: '/admin' },
  );
}

function rolloutRoutes(admin: FastifyInstance, opts: RolloutAdminOptions): void {
  const { service } = opts;
  const controller = () => {
    const c = service.rollouts;
    if (!c) throw new InferdError('unsupported', 'rollouts need the key store (an admin token or --auth on)');
    return c;
  };
  const modelOf = (params: unknown): string => {
    const model = (params as { model: string }).model;
    // Unknown models are refused by name (404 model_not_found), before anything is stored.
    service.modelConfig(model);
    return model;
  };

  admin.get('/rollouts', async () => {
    await controller().refresh();
    return { rollouts: controller().list().map(publicRollout) };
  });
  admin.get('/rollouts/:model', async (req) => {
    const model = modelOf(req.params);
    await controller().refresh();
    const s = controller().state(model);
    if (!s) throw new InferdError('not_found', `model '${model}' has no rollout`);
    return {
      ...publicRollout(s),
      windows: controller().windowsOf(model) ?? null,
      previous: previousHere(service, s),
    };
  });
  admin.post('/rollouts/:model', async (req, reply) => {
    const model = modelOf(req.params);
    const b = jsonBody(startBody, req.body);
    // Production defaults to what the stored rollout settled on: read it first, as another replica
    // may have rolled back or promoted since this one last read it.
    await controller().refresh();
    // Both versions must be READY now: a canary of a version that cannot answer fails everyone.
    const candidate = service.readyVersion(model, b.version);
    const production =
      b.production !== undefined
        ? service.readyVersion(model, b.production)
        : service.productionVersion(model);
    const s = await controller().startRollout({
      model,
      production,
      candidate,
      percent: b.percent,
      shadowPercent: b.shadow_percent,
      by: b.by ?? 'admin',
      reason: b.reason,
      policy: b.policy && {
        ...(b.policy.window_ms !== undefined ? { windowMs: b.policy.window_ms } : {}),
        ...(b.policy.min_samples !== undefined ? { minSamples: b.policy.min_samples } : {}),
        ...(b.policy.error_rate_margin !== undefined ? { errorRateMargin: b.policy.error_rate_margin } : {}),
        ...(b.policy.p99_margin !== undefined ? { p99Margin: b.policy.p99_margin } : {}),
        ...(b.policy.p99_slack_ms !== undefined ? { p99SlackMs: b.policy.p99_slack_ms } : {}),
      },
    });
    return reply.code(s.startedAt === s.updatedAt ? 201 : 200).send(publicRollout(s));
  });
  admin.post('/rollouts/:model/promote', async (req) => {
    const model = modelOf(req.params);
    const b = jsonBody(byBody, req.body);
    const by = b.by ?? 'admin';
    const s = await controller().promote(model, by);
    // The repository says so too, so a restart without the store (or `inferd models`) agrees.
    return {
      ...publicRollout(s),
      alias: aliasMoved(opts, model, s.candidate, by, b.reason || 'rollout promoted'),
    };
  });
  admin.post('/rollouts/:model/rollback', async (req) => {
    const model = modelOf(req.params);
    const b = jsonBody(byBody, req.body);
    const by = b.by ?? 'admin';
    const before = controller().state(model);
    const s = await controller().rollBack(model, b.reason ? `rolled back by ${by}: ${b.reason}` : '', by);
    const alias =
      before?.phase === 'promoted' ? aliasMoved(opts, model, s.production, by, s.reason) : undefined;
    return { ...publicRollout(s), ...(alias ? { alias } : {}) };
  });
}

/**
 * After a promote, the previous version as this replica has it: READY while retained, then
 * UNLOADING / UNAVAILABLE with the reason once retired (service/rollout/retention.ts).
 */
function previousHere(service: InferenceService, s: RolloutState): Record<string, string> | null {
  if (s.phase !== 'promoted') return null;
  const v = service.models.get(s.model)?.versions.get(s.production);
  return v ? { version: v.version, state: v.state, reason: v.reason } : null;
}

/**
 * Moves `production` in the repository after the stored state changed: the rollout already
 * routes by the store, so a repository that cannot be written is reported, not an error.
 */
function aliasMoved(
  opts: RolloutAdminOptions,
  model: string,
  version: string,
  by: string,
  reason: string,
): string {
  if (!opts.moveAlias) return 'not moved: the repository is not a local folder';
  try {
    opts.moveAlias(model, 'production', version, { by, reason });
    return `production -> ${version}`;
  } catch (err) {
    return `not moved: ${(err as Error).message}`.slice(0, 512);
  }
}
