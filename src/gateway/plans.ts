/**
 * Plans: what a key may do. Rates are in requests, quotas in units (a call costs its model's weight).
 * A JSON file (setting `plansFile`) replaces the default set entirely.
 *
 * The defaults are derived in docs/market.md from the committed benchmarks (`npm run cost`): one unit
 * is one spam call's compute (0.33 ms of CPU); an OCR page is ~2.8 vCPU-seconds, 8,400 units. The free
 * plan holds 1,000 OCR pages a month (what Cloud Vision and Textract give free), pro 100,000.
 * test/docs/market-doc.test.ts fails when these and the measurements drift apart.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';

const KiB = 1024;
const MiB = 1024 * KiB;

const planSchema = z.object({
  /** Sustained rate: tokens refill at this many requests per minute. */
  requestsPerMinute: z.number().int().min(1),
  /** Bucket size: requests that may arrive at once after a quiet period. */
  burst: z.number().int().min(1),
  /** Requests in flight at the same time per key. */
  concurrentRequests: z.number().int().min(1),
  /** Units per calendar month (UTC); null = unlimited. */
  monthlyQuotaUnits: z.number().int().min(1).nullable(),
  /** Largest request body for this plan. */
  maxPayloadBytes: z.number().int().min(1),
  /**
   * Opt-in: keep the text inputs of /v1 predictions (up to 64 KiB each) so that feedback can be
   * trained on (docs/lifecycle.md#feedback-and-drift). Default off: only the answer is logged.
   */
  keepInputs: z.boolean().optional(),
  /** Days a logged prediction (and its input and feedback) is kept; default 30. */
  predictionRetentionDays: z.number().int().min(1).max(3650).optional(),
});

const plansFileSchema = z.object({
  plans: z.record(z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/), planSchema),
  /** Units per call by model name; models not listed cost `defaultWeight`. */
  modelWeights: z.record(z.string(), z.number().int().min(0)).default({}),
  defaultWeight: z.number().int().min(0).default(1),
});

export type Plan = z.infer<typeof planSchema>;
export type PlanSet = z.infer<typeof plansFileSchema>;

export const DEFAULT_PLANS: PlanSet = {
  plans: {
    free: {
      requestsPerMinute: 60,
      burst: 10,
      concurrentRequests: 2,
      // 1,000 OCR pages or 8.4 M spam calls (the rate limit caps those at ~2.6 M a month).
      monthlyQuotaUnits: 8_400_000,
      maxPayloadBytes: 2 * MiB,
    },
    pro: {
      requestsPerMinute: 600,
      burst: 100,
      concurrentRequests: 16,
      // 100,000 OCR pages; under 2^31, so every store's counters hold it.
      monthlyQuotaUnits: 840_000_000,
      maxPayloadBytes: 20 * MiB,
    },
    unlimited: {
      requestsPerMinute: 1_000_000,
      burst: 100_000,
      concurrentRequests: 1024,
      monthlyQuotaUnits: null,
      maxPayloadBytes: 64 * MiB,
    },
  },
  // In proportion to measured compute: an OCR page (decode, detection, ~24 recognition crops) takes
  // ~8,400 times the CPU of a spam call (bench/results/ocr.md, gateway.md).
  modelWeights: { ocr: 8_400, spam: 1 },
  defaultWeight: 1,
};

export function loadPlans(file?: string): PlanSet {
  if (!file) return DEFAULT_PLANS;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`plans file '${file}' cannot be read as JSON: ${(err as Error).message}`);
  }
  const res = plansFileSchema.safeParse(raw);
  if (!res.success) {
    const why = res.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new Error(`plans file '${file}' is invalid: ${why}`);
  }
  for (const [name, p] of Object.entries(res.data.plans)) {
    if (p.burst < 1) throw new Error(`plans file '${file}': plan ${name} needs burst >= 1`);
  }
  return res.data;
}

/** Default of `predictionRetentionDays`. */
export const DEFAULT_PREDICTION_RETENTION_DAYS = 30;

export function modelWeight(plans: PlanSet, model: string): number {
  return plans.modelWeights[model] ?? plans.defaultWeight;
}

/** Start (inclusive) and end (exclusive) of the UTC calendar month holding `ms`. */
export function monthWindow(ms: number): { start: number; end: number; id: string } {
  const d = new Date(ms);
  const start = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  const end = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
  return { start, end, id: new Date(start).toISOString().slice(0, 7) };
}
