/**
 * `inferd evaluate spam --candidate V --against production`: scores both versions' model files
 * (onnxruntime-node, in-process) on the same held-out messages and the same CheckList suites,
 * measures their latency and memory, and applies the release gate (./gate.ts).
 *
 * The shared messages are the intersection of both versions' recorded test splits: a message in
 * either version's training or validation data would favour that version. Training's split seed is
 * fixed (train.ts), so versions trained from the same corpus share the whole split.
 */
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { InferdError } from '../../errors.js';
import {
  listVersions,
  MODEL_NAME,
  modelDir,
  modelPath,
  readConfig,
  readMetrics,
  type SpamConfig,
} from './artifacts.js';
import { loadChecklist, runSuite, type ChecklistSuite } from './checklist.js';
import { loadExamples } from './dataset.js';
import { decide, metricsOf, type GateDecision, type GateSettings, type VersionRun } from './gate.js';
import { openModel, scoreTexts } from './score.js';

export interface EvaluateOptions {
  repository: string;
  /** Version to judge (default: the highest). */
  candidate?: string;
  /** Alias or version to compare against; 'none' for no comparison (default: `production`). */
  against?: string;
  /** CheckList folder (default `<repository>/spam/checklist`). */
  checklist?: string;
  /** Messages timed one at a time for the latency budget (default 200). */
  latencyCalls?: number;
}

export interface EvaluationReport {
  model: string;
  repository: string;
  candidate: VersionRun;
  against?: VersionRun & { ref: string };
  /** Held-out messages both versions were scored on. */
  examples: number;
  settings: GateSettings;
  decision: GateDecision;
  passed: boolean;
}

/** The gate's settings from config.json `evaluation` (floors, max_regression, alpha, budget). */
function gateSettings(config: SpamConfig): GateSettings {
  const e = config.evaluation ?? {};
  return {
    floors: e.floors ?? {},
    maxRegression: e.max_regression ?? 0,
    alpha: e.alpha ?? 0.05,
    budget: { p99Ms: e.budget?.p99_ms, memoryMb: e.budget?.memory_mb },
  };
}

/** `ref` as a version folder: a version number, or an alias of config.json. */
function resolveRef(config: SpamConfig, versions: string[], ref: string): string {
  const version = /^\d+$/.test(ref) ? String(Number(ref)) : config.aliases?.[ref];
  if (version === undefined) {
    const aliases = Object.keys(config.aliases ?? {});
    throw new InferdError(
      'invalid_request',
      `'${ref}' is neither a version nor an alias of '${MODEL_NAME}' (aliases: ${aliases.join(', ') || 'none'})`,
    );
  }
  if (!versions.includes(version)) {
    throw new InferdError(
      'version_not_found',
      `'${MODEL_NAME}' has no version ${version}${version === ref ? '' : ` (alias '${ref}')`}; versions: ${versions.join(', ') || 'none'}`,
    );
  }
  return version;
}

const percentile = (sorted: Float64Array, q: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;

async function measure(
  repository: string,
  version: string,
  texts: string[],
  y: number[],
  suites: ChecklistSuite[],
  latencyCalls: number,
): Promise<VersionRun> {
  const path = modelPath(repository, version);
  const rssBefore = process.memoryUsage().rss;
  const session = await openModel(path);
  try {
    const scores = await scoreTexts(session, texts);
    const memoryMb = Math.max(0, process.memoryUsage().rss - rssBefore) / 2 ** 20;
    const decision = Uint8Array.from(scores.label, (l) => (l === 'spam' ? 1 : 0));
    const calls = Math.min(latencyCalls, texts.length);
    const times = new Float64Array(calls);
    for (let i = 0; i < calls; i++) {
      const t0 = performance.now();
      await session.run({ text: new ort.Tensor('string', [texts[i] as string], [1]) });
      times[i] = performance.now() - t0;
    }
    times.sort();
    const checklist = [];
    for (const suite of suites) checklist.push(await runSuite(session, suite));
    return {
      version,
      metrics: metricsOf(scores.probability, decision, y),
      probability: scores.probability,
      decision,
      checklist,
      latency: { p50Ms: percentile(times, 0.5), p99Ms: percentile(times, 0.99), calls },
      memoryMb,
    };
  } catch (err) {
    if (err instanceof InferdError) throw err;
    throw new InferdError('backend_error', `Running ${path} failed: ${(err as Error).message}`, {
      cause: err,
    });
  } finally {
    await session.release();
  }
}

function testKeys(repository: string, version: string): string[] {
  const keys = readMetrics(repository, version).split?.test_keys ?? [];
  if (keys.length === 0) {
    throw new InferdError(
      'invalid_config',
      `metrics.json of version ${version} records no test split (split.test_keys).`,
    );
  }
  return keys;
}

export async function evaluateSpam(opts: EvaluateOptions): Promise<EvaluationReport> {
  const config = readConfig(opts.repository);
  const versions = listVersions(opts.repository);
  if (versions.length === 0) {
    throw new InferdError(
      'version_not_found',
      `'${MODEL_NAME}' in ${opts.repository} has no version folders.`,
    );
  }
  const candidate = resolveRef(config, versions, opts.candidate ?? (versions[versions.length - 1] as string));
  const againstRef = opts.against ?? 'production';
  let against: string | undefined;
  if (
    againstRef !== 'none' &&
    !(opts.against === undefined && config.aliases?.['production'] === undefined)
  ) {
    against = resolveRef(config, versions, againstRef);
    if (against === candidate) against = undefined;
  }

  let keys = testKeys(opts.repository, candidate);
  if (against !== undefined) {
    const other = new Set(testKeys(opts.repository, against));
    keys = keys.filter((k) => other.has(k));
    if (keys.length === 0) {
      throw new InferdError(
        'invalid_config',
        `versions ${candidate} and ${against} share no held-out test message: they cannot be compared fairly.`,
      );
    }
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
  const suites = loadChecklist(opts.checklist ?? join(modelDir(opts.repository), 'checklist'));
  const calls = opts.latencyCalls ?? 200;
  // ONNX Runtime's environment and allocators are set up by the first session of the process:
  // open one first so neither version's memory figure carries that one-off cost.
  await (await openModel(modelPath(opts.repository, candidate))).release();
  const candidateRun = await measure(opts.repository, candidate, texts, y, suites, calls);
  const againstRun =
    against === undefined ? undefined : await measure(opts.repository, against, texts, y, suites, calls);
  const settings = gateSettings(config);
  const decision = decide(settings, y, candidateRun, againstRun);
  return {
    model: MODEL_NAME,
    repository: opts.repository,
    candidate: candidateRun,
    against: againstRun && { ...againstRun, ref: againstRef },
    examples: y.length,
    settings,
    decision,
    passed: decision.passed,
  };
}
