/**
 * Reading and writing the model repository entries for the spam model:
 * `<repo>/spam/config.json` and `<repo>/spam/<version>/{model.onnx,metrics.json,MODEL_CARD.md}`.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InferdError } from '../../errors.js';
import type { BinaryMetrics } from './metrics.js';

export const MODEL_NAME = 'spam';

export interface SpamConfig {
  name: string;
  platform: string;
  max_batch_size: number;
  aliases?: Record<string, string>;
  labels?: string[];
  evaluation?: {
    floors?: { f1?: number; precision?: number; roc_auc?: number };
    max_regression?: number;
    /** Significance level of the gate's McNemar test (default 0.05). */
    alpha?: number;
    /** In-process budget: p99 of single-message calls (ms), resident memory of the model (MiB). */
    budget?: { p99_ms?: number; memory_mb?: number };
  };
  description?: string;
  [key: string]: unknown;
}

export const DEFAULT_CONFIG: SpamConfig = {
  name: MODEL_NAME,
  platform: 'onnxruntime_onnx',
  max_batch_size: 64,
  dynamic_batching: { max_queue_delay_microseconds: 500 },
  instance_group: [{ count: 1 }],
  version_policy: { latest: { num_versions: 1 } },
  aliases: { production: '1' },
  labels: ['ham', 'spam'],
  // Budget: p99 of one message in-process was 1.8 ms and the loaded model 118 MiB on 2 idle cores
  // (`inferd evaluate spam`); the limits leave room for a busy CI machine.
  evaluation: {
    floors: { f1: 0.97, precision: 0.97, roc_auc: 0.99 },
    max_regression: 0.01,
    alpha: 0.05,
    budget: { p99_ms: 50, memory_mb: 256 },
  },
  description:
    'Spam/phishing detector trained on the SpamAssassin corpus. Input `text`: one message per row ' +
    '(header lines From/To/Subject optional, blank line, plain-text body). Outputs calibrated `probability` ' +
    '(P(spam)) and `label` (ham/spam). See docs/spam.md.',
};

/** What metrics.json holds (snake_case keys: it is read by tools outside TypeScript too). */
export interface SpamMetricsFile {
  model: string;
  version: string;
  seed: number;
  threshold: number;
  calibration: {
    method: 'platt';
    a: number;
    b: number;
    validation_ece_before: number;
    /** Evidence shrinkage (evidence.ts): k and the training spam share; absent in older models. */
    evidence?: { pseudo_count: number; prior: number };
  };
  validation: BinaryMetrics;
  test: BinaryMetrics;
  baselines: Record<string, { test: BinaryMetrics }>;
  split: { corpus: number; train: number; validation: number; test: number; test_keys: string[] };
  duplicates_removed: { exact: number; near: number; total: number; label_conflicts: number };
  classifier: { kind: string; hidden: number; best_epoch: number; epochs_run: number; inputs: number };
  vocabulary: { unigrams: number; bigrams: number; dense: string[] };
  training_seconds: number;
  onnx_bytes: number;
}

export function modelDir(repo: string): string {
  return join(repo, MODEL_NAME);
}

export function readConfig(repo: string): SpamConfig {
  const path = join(modelDir(repo), 'config.json');
  if (!existsSync(path)) {
    throw new InferdError(
      'model_not_found',
      `No ${path}: is ${repo} a model repository containing '${MODEL_NAME}'?`,
    );
  }
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as SpamConfig;
  } catch (err) {
    throw new InferdError('invalid_config', `${path} is not valid JSON: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/** Version folder names (all digits), ascending numerically. */
export function listVersions(repo: string): string[] {
  const dir = modelDir(repo);
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && /^\d+$/.test(d.name))
    .map((d) => d.name)
    .sort((a, b) => Number(a) - Number(b));
}

export function readMetrics(repo: string, version: string): SpamMetricsFile {
  const path = join(modelDir(repo), version, 'metrics.json');
  if (!existsSync(path)) {
    throw new InferdError(
      'version_not_found',
      `No ${path}: version ${version} of '${MODEL_NAME}' has no metrics.`,
    );
  }
  return JSON.parse(readFileSync(path, 'utf8')) as SpamMetricsFile;
}

export function modelPath(repo: string, version: string): string {
  const path = join(modelDir(repo), version, 'model.onnx');
  if (!existsSync(path)) {
    throw new InferdError(
      'version_not_found',
      `No ${path}: version ${version} of '${MODEL_NAME}' has no model.`,
    );
  }
  return path;
}
