/**
 * Behavioural suites in the CheckList style (Ribeiro et al. 2020), kept beside the model in the
 * repository (`<repo>/spam/checklist/*.json`): each file is one capability with its own
 * `max_failure_rate`. Used by the tests and by the release gate.
 *   - expect (MFT): the label must equal `expect`;
 *   - variants without direction (INV): no variant's label may differ from the base's label;
 *   - direction up/down (DIR): each variant's logit must be above/below the base's.
 * A case with several variants counts one check per variant.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type ort from 'onnxruntime-node';
import { InferdError } from '../../errors.js';
import { scoreTexts } from './score.js';

interface ChecklistCase {
  name: string;
  text?: string;
  expect?: 'spam' | 'ham';
  base?: string;
  variants?: string[];
  direction?: 'up' | 'down';
}

export interface ChecklistSuite {
  capability: string;
  description: string;
  max_failure_rate: number;
  tests: ChecklistCase[];
}

export interface CapabilityResult {
  capability: string;
  checks: number;
  failures: string[];
  failureRate: number;
  maxFailureRate: number;
  passed: boolean;
}

/** Suites of a folder, by file name; none when the folder does not exist. */
export function loadChecklist(dir: string): ChecklistSuite[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => {
      const path = join(dir, f);
      let suite: ChecklistSuite;
      try {
        suite = JSON.parse(readFileSync(path, 'utf8')) as ChecklistSuite;
      } catch (err) {
        throw new InferdError('invalid_config', `${path} is not valid JSON: ${(err as Error).message}`);
      }
      if (typeof suite.capability !== 'string' || !Array.isArray(suite.tests)) {
        throw new InferdError('invalid_config', `${path}: needs "capability" and a "tests" list`);
      }
      if (!(suite.max_failure_rate >= 0 && suite.max_failure_rate <= 1)) {
        throw new InferdError('invalid_config', `${path}: "max_failure_rate" must be within 0..1`);
      }
      return suite;
    });
}

/** Logit of a probability, clamped so float32 saturation at 0/1 stays finite. */
function logit(p: number): number {
  const q = Math.min(1 - 1e-7, Math.max(1e-7, p));
  return Math.log(q / (1 - q));
}

async function runCase(session: ort.InferenceSession, c: ChecklistCase): Promise<string[]> {
  if (c.expect !== undefined) {
    const s = await scoreTexts(session, [c.text ?? '']);
    return s.label[0] === c.expect
      ? []
      : [`${c.name}: expected ${c.expect}, got ${s.label[0]} (p=${s.probability[0]})`];
  }
  const variants = c.variants ?? [];
  const s = await scoreTexts(session, [c.base ?? '', ...variants]);
  const base = s.probability[0] as number;
  const failures: string[] = [];
  variants.forEach((_, i) => {
    const p = s.probability[i + 1] as number;
    if (c.direction === undefined && s.label[i + 1] !== s.label[0]) {
      failures.push(`${c.name}[${i}]: label flipped ${s.label[0]} -> ${s.label[i + 1]}`);
    }
    if (c.direction === 'up' && !(logit(p) > logit(base)))
      failures.push(`${c.name}[${i}]: p ${base} -> ${p}, expected up`);
    if (c.direction === 'down' && !(logit(p) < logit(base))) {
      failures.push(`${c.name}[${i}]: p ${base} -> ${p}, expected down`);
    }
  });
  return failures;
}

/** Runs one suite against an open model session. */
export async function runSuite(
  session: ort.InferenceSession,
  suite: ChecklistSuite,
): Promise<CapabilityResult> {
  let checks = 0;
  const failures: string[] = [];
  for (const c of suite.tests) {
    checks += c.expect !== undefined ? 1 : (c.variants?.length ?? 0);
    failures.push(...(await runCase(session, c)));
  }
  const failureRate = failures.length / Math.max(1, checks);
  return {
    capability: suite.capability,
    checks,
    failures,
    failureRate,
    maxFailureRate: suite.max_failure_rate,
    passed: checks > 0 && failureRate <= suite.max_failure_rate,
  };
}
