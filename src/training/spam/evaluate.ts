/**
 * `inferd evaluate spam`: runs a served model file (onnxruntime-node, in-process) on the held-out
 * test split recorded in its metrics.json and applies the release gate:
 *   - F1, precision (at the model's own threshold, i.e. its `label` output) and ROC-AUC must reach
 *     the floors in config.json `evaluation.floors`;
 *   - when the evaluated version is not the one aliased `production`, none of those metrics may be
 *     worse than production's (on the same messages) by more than `evaluation.max_regression`.
 */
import { InferdError } from '../../errors.js';
import { listVersions, MODEL_NAME, modelPath, readConfig, readMetrics } from './artifacts.js';
import { loadExamples } from './dataset.js';
import { binaryMetrics, type BinaryMetrics } from './metrics.js';
import { openModel, scoreTexts } from './score.js';

const GATED_METRICS = ['f1', 'precision', 'roc_auc'] as const;

interface GateCheck {
  name: string;
  value: number;
  limit: number;
  passed: boolean;
}

export interface EvaluationReport {
  version: string;
  productionVersion?: string;
  metrics: BinaryMetrics;
  production?: BinaryMetrics;
  checks: GateCheck[];
  passed: boolean;
}

/** Metrics of one model file on the given examples; the label output decides precision/recall/F1. */
async function measure(path: string, texts: string[], y: number[]): Promise<BinaryMetrics> {
  const session = await openModel(path);
  try {
    const s = await scoreTexts(session, texts);
    // Threshold 0.5 on a 0/1 vector built from the served label: uses the model's own decision.
    const decided = Float64Array.from(s.label, (l) => (l === 'spam' ? 1 : 0));
    const m = binaryMetrics(decided, y, 0.5);
    const withProb = binaryMetrics(s.probability, y, 0.5);
    return {
      ...m,
      roc_auc: withProb.roc_auc,
      ece: withProb.ece,
      log_loss: withProb.log_loss,
      brier: withProb.brier,
    };
  } catch (err) {
    throw new InferdError('backend_error', `Running ${path} failed: ${(err as Error).message}`, {
      cause: err,
    });
  } finally {
    await session.release();
  }
}

export async function evaluateSpam(opts: {
  repository: string;
  version?: string;
}): Promise<EvaluationReport> {
  const config = readConfig(opts.repository);
  const versions = listVersions(opts.repository);
  const version = opts.version ?? versions[versions.length - 1];
  if (version === undefined) {
    throw new InferdError(
      'version_not_found',
      `'${MODEL_NAME}' in ${opts.repository} has no version folders.`,
    );
  }
  const floors = config.evaluation?.floors ?? {};
  const maxRegression = config.evaluation?.max_regression ?? 0;
  const recorded = readMetrics(opts.repository, version);
  const keys = recorded.split?.test_keys ?? [];
  if (keys.length === 0) {
    throw new InferdError(
      'invalid_config',
      `metrics.json of version ${version} records no test split (split.test_keys).`,
    );
  }
  const examples = await loadExamples(keys);
  if (examples.length !== keys.length) {
    throw new InferdError(
      'not_found',
      `Only ${examples.length} of ${keys.length} test messages were found in the corpus package; is it the same version?`,
    );
  }
  const texts = examples.map((e) => e.text);
  const y = examples.map((e) => e.label);
  const metrics = await measure(modelPath(opts.repository, version), texts, y);

  const checks: GateCheck[] = [];
  for (const name of GATED_METRICS) {
    const floor = floors[name];
    if (floor !== undefined) {
      checks.push({
        name: `${name} >= floor`,
        value: metrics[name],
        limit: floor,
        passed: metrics[name] >= floor,
      });
    }
  }
  const productionVersion = config.aliases?.['production'];
  let production: BinaryMetrics | undefined;
  if (productionVersion !== undefined && productionVersion !== version) {
    production = await measure(modelPath(opts.repository, productionVersion), texts, y);
    for (const name of GATED_METRICS) {
      const limit = production[name] - maxRegression;
      checks.push({
        name: `${name} >= production v${productionVersion} - ${maxRegression}`,
        value: metrics[name],
        limit,
        passed: metrics[name] >= limit,
      });
    }
  }
  return { version, productionVersion, metrics, production, checks, passed: checks.every((c) => c.passed) };
}

/** A fixed-width table of the report for the terminal. */
export function formatReport(r: EvaluationReport): string {
  const m = r.metrics;
  const lines = [
    `model ${MODEL_NAME} version ${r.version} on ${m.n} held-out test messages`,
    '',
    'metric      value',
    ...(['f1', 'precision', 'recall', 'accuracy', 'roc_auc', 'ece'] as const).map(
      (k) =>
        `${k.padEnd(11)} ${m[k].toFixed(4)}${r.production ? `   (production v${r.productionVersion}: ${r.production[k].toFixed(4)})` : ''}`,
    ),
    `confusion   tp=${m.confusion.tp} fp=${m.confusion.fp} tn=${m.confusion.tn} fn=${m.confusion.fn}`,
    '',
    'gate',
    ...r.checks.map(
      (c) =>
        `${c.passed ? 'PASS' : 'FAIL'}  ${c.name.padEnd(40)} ${c.value.toFixed(4)} (limit ${c.limit.toFixed(4)})`,
    ),
    '',
    r.passed ? 'gate passed' : 'GATE FAILED',
  ];
  return `${lines.join('\n')}\n`;
}
