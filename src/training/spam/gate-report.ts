/**
 * The release gate's report in three forms: a fixed-width table for the terminal, Markdown for a CI
 * job summary (`>> "$GITHUB_STEP_SUMMARY"`), and JSON for machines (per-example arrays left out).
 */
import type { EvaluationReport } from './evaluate.js';
import type { VersionRun } from './gate.js';

const METRICS = ['f1', 'precision', 'recall', 'accuracy', 'roc_auc', 'ece'] as const;

const f4 = (x: number): string => x.toFixed(4);
const fp = (p: number): string => (p < 1e-4 ? p.toExponential(1) : p.toFixed(4));

function runJson(r: VersionRun): Record<string, unknown> {
  return {
    version: r.version,
    metrics: r.metrics,
    checklist: r.checklist.map((c) => ({
      capability: c.capability,
      checks: c.checks,
      failed: c.failures.length,
      failure_rate: c.failureRate,
      max_failure_rate: c.maxFailureRate,
      passed: c.passed,
      failures: c.failures,
    })),
    latency_ms: { p50: r.latency.p50Ms, p99: r.latency.p99Ms, calls: r.latency.calls },
    memory_mb: r.memoryMb,
  };
}

/** The report as JSON (snake_case keys; read by tools outside TypeScript). */
export function reportJson(r: EvaluationReport): string {
  const s = r.decision.significance;
  return `${JSON.stringify(
    {
      model: r.model,
      passed: r.passed,
      examples: r.examples,
      candidate: runJson(r.candidate),
      against: r.against ? { ref: r.against.ref, ...runJson(r.against) } : null,
      significance: s
        ? {
            test: s.test,
            discordant_candidate_wrong: s.mcnemar.b,
            discordant_baseline_wrong: s.mcnemar.c,
            p_two_sided: s.mcnemar.pValue,
            p_candidate_worse: s.mcnemar.pWorse,
            f1_difference: s.f1Difference.difference,
            f1_difference_ci: [s.f1Difference.low, s.f1Difference.high],
            ci_confidence: s.f1Difference.confidence,
            bootstrap_resamples: s.f1Difference.resamples,
          }
        : null,
      settings: r.settings,
      checks: r.decision.checks,
    },
    null,
    2,
  )}\n`;
}

function title(r: EvaluationReport): string {
  const against = r.against ? ` against ${r.against.ref} (v${r.against.version})` : '';
  return `${r.model} v${r.candidate.version}${against} on ${r.examples} held-out messages`;
}

/** Markdown: a verdict line, the metrics side by side, the checks, the significance test. */
export function reportMarkdown(r: EvaluationReport): string {
  const a = r.against;
  const s = r.decision.significance;
  const lines = [
    `## Release gate: ${r.passed ? 'passed ✅' : 'FAILED ❌'}`,
    '',
    title(r),
    '',
    `| metric | v${r.candidate.version} |${a ? ` v${a.version} (${a.ref}) | difference |` : ''}`,
    `|---|---:|${a ? '---:|---:|' : ''}`,
    ...METRICS.map(
      (k) =>
        `| ${k} | ${f4(r.candidate.metrics[k])} |${a ? ` ${f4(a.metrics[k])} | ${(r.candidate.metrics[k] - a.metrics[k]).toFixed(4)} |` : ''}`,
    ),
    `| p50 / p99 latency (ms) | ${r.candidate.latency.p50Ms.toFixed(2)} / ${r.candidate.latency.p99Ms.toFixed(2)} |${a ? ` ${a.latency.p50Ms.toFixed(2)} / ${a.latency.p99Ms.toFixed(2)} | |` : ''}`,
    `| memory (MiB) | ${r.candidate.memoryMb.toFixed(1)} |${a ? ` ${a.memoryMb.toFixed(1)} | |` : ''}`,
    '',
    '| check | value | limit | result |',
    '|---|---:|---:|---|',
    ...r.decision.checks.map(
      (c) => `| ${c.name} | ${f4(c.value)} | ${f4(c.limit)} | ${c.passed ? 'pass' : '**FAIL**'} |`,
    ),
  ];
  if (s) {
    lines.push(
      '',
      `Significance: ${s.test} on the paired predictions: the candidate alone is wrong on ${s.mcnemar.b} messages, ` +
        `the baseline alone on ${s.mcnemar.c}; p (two-sided) = ${fp(s.mcnemar.pValue)}, p (candidate worse) = ${fp(s.mcnemar.pWorse)}. ` +
        `F1 difference ${s.f1Difference.difference.toFixed(4)}, paired bootstrap ${s.f1Difference.confidence * 100}% interval ` +
        `[${s.f1Difference.low.toFixed(4)}, ${s.f1Difference.high.toFixed(4)}] (${s.f1Difference.resamples} resamples).`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** A fixed-width table for the terminal. */
export function reportText(r: EvaluationReport): string {
  const a = r.against;
  const m = r.candidate.metrics;
  const lines = [
    title(r),
    '',
    'metric      value',
    ...METRICS.map(
      (k) => `${k.padEnd(11)} ${f4(m[k])}${a ? `   (${a.ref} v${a.version}: ${f4(a.metrics[k])})` : ''}`,
    ),
    `confusion   tp=${m.confusion.tp} fp=${m.confusion.fp} tn=${m.confusion.tn} fn=${m.confusion.fn}`,
    `latency     p50 ${r.candidate.latency.p50Ms.toFixed(2)} ms, p99 ${r.candidate.latency.p99Ms.toFixed(2)} ms (${r.candidate.latency.calls} single-message calls)`,
    `memory      ${r.candidate.memoryMb.toFixed(1)} MiB`,
    '',
    'gate',
    ...r.decision.checks.map(
      (c) => `${c.passed ? 'PASS' : 'FAIL'}  ${c.name.padEnd(58)} ${f4(c.value)} (limit ${f4(c.limit)})`,
    ),
    '',
    r.passed ? 'gate passed' : 'GATE FAILED',
  ];
  return `${lines.join('\n')}\n`;
}
