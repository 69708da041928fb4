#!/usr/bin/env node
/**
 * Canary verdict from inferd's Prometheus counters: promote, rollback or wait.
 *
 *   node canary-verdict.mjs --model spam --canary 2 --production 1 \
 *     --before before.prom --after after.prom [--max-failure-ratio 0.01] [--min-requests 200]
 *
 * `before`/`after` are /metrics scrapes of every pod concatenated (scrape-pods.sh), taken when the
 * canary started and now; the counters are summed over pods and the difference is the canary
 * window. A pod that restarted in between has smaller counters than before: its `after` counts are
 * taken as the window (they all happened since the restart).
 *
 * Counted as the server's fault: failure reasons `backend`, `timeout` and `rejected`; `invalid` and
 * `canceled` are the client's (a bad request or a client that went away), so they do not judge the
 * version. Prints one JSON line; exit 0 for every verdict, 2 for a usage error.
 */
import { readFileSync } from 'node:fs';

const SERVER_REASONS = new Set(['backend', 'timeout', 'rejected']);
const MIN_FAILURES = 5;
const SAMPLE = /^(inferd_request_(?:success|failure)_total)\{([^}]*)\}\s+([0-9.eE+-]+)/;

function usage(message) {
  process.stderr.write(`canary-verdict: ${message}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { maxFailureRatio: 0.01, minRequests: 200 };
  const names = {
    '--model': 'model',
    '--canary': 'canary',
    '--production': 'production',
    '--before': 'before',
    '--after': 'after',
    '--max-failure-ratio': 'maxFailureRatio',
    '--min-requests': 'minRequests',
  };
  for (let i = 0; i < argv.length; i += 2) {
    const key = names[argv[i]];
    if (key === undefined || argv[i + 1] === undefined) usage(`unknown or incomplete option '${argv[i]}'`);
    opts[key] = argv[i + 1];
  }
  for (const k of ['model', 'canary', 'production', 'after']) {
    if (opts[k] === undefined) usage(`--${k} is required`);
  }
  opts.maxFailureRatio = Number(opts.maxFailureRatio);
  opts.minRequests = Number(opts.minRequests);
  if (!(opts.maxFailureRatio >= 0 && opts.maxFailureRatio <= 1))
    usage('--max-failure-ratio must be in [0, 1]');
  if (!(Number.isInteger(opts.minRequests) && opts.minRequests > 0))
    usage('--min-requests must be a positive integer');
  return opts;
}

function labels(text) {
  const out = {};
  for (const m of text.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) out[m[1]] = m[2];
  return out;
}

/** Per pod (a scrape starts at its `# pod NAME` line) and version: {ok, failed} counts. */
function countsByPod(text, model) {
  const pods = new Map();
  let pod = '';
  for (const line of text.split('\n')) {
    const header = /^# pod (\S+)/.exec(line);
    if (header) {
      pod = header[1];
      continue;
    }
    const m = SAMPLE.exec(line);
    if (!m) continue;
    const l = labels(m[2]);
    if (l.model !== model) continue;
    const success = m[1] === 'inferd_request_success_total';
    if (!success && !SERVER_REASONS.has(l.reason)) continue;
    const key = `${pod}\u0000${l.version}`;
    const c = pods.get(key) ?? { ok: 0, failed: 0 };
    if (success) c.ok += Number(m[3]);
    else c.failed += Number(m[3]);
    pods.set(key, c);
  }
  return pods;
}

/** The window's {ok, failed} per version, summed over pods. */
function windowCounts(beforeText, afterText, model) {
  const before = countsByPod(beforeText, model);
  const after = countsByPod(afterText, model);
  const out = new Map();
  for (const [key, a] of after) {
    const b = before.get(key) ?? { ok: 0, failed: 0 };
    const restarted = a.ok < b.ok || a.failed < b.failed;
    const version = key.split('\u0000')[1];
    const sum = out.get(version) ?? { ok: 0, failed: 0 };
    sum.ok += restarted ? a.ok : a.ok - b.ok;
    sum.failed += restarted ? a.failed : a.failed - b.failed;
    out.set(version, sum);
  }
  return out;
}

function verdict(counts, opts) {
  const c = counts.get(String(opts.canary)) ?? { ok: 0, failed: 0 };
  const p = counts.get(String(opts.production)) ?? { ok: 0, failed: 0 };
  const ratio = (x) => (x.ok + x.failed === 0 ? 0 : x.failed / (x.ok + x.failed));
  const canary = { requests: c.ok + c.failed, failed: c.failed, failure_ratio: ratio(c) };
  const production = { requests: p.ok + p.failed, failed: p.failed, failure_ratio: ratio(p) };
  // The canary may fail as often as production does, plus the allowed ratio.
  const limit = production.failure_ratio + opts.maxFailureRatio;
  let decision = 'wait';
  let reason = `canary served ${canary.requests} of the ${opts.minRequests} requests needed`;
  // Early rollback needs a few failures: one failed request out of three is not a trend.
  const enough = canary.requests >= opts.minRequests || canary.failed >= MIN_FAILURES;
  if (canary.failure_ratio > limit && enough) {
    decision = 'rollback';
    reason = `canary failure ratio ${canary.failure_ratio.toFixed(4)} > ${limit.toFixed(4)} (production ${production.failure_ratio.toFixed(4)} + ${opts.maxFailureRatio})`;
  } else if (canary.requests >= opts.minRequests) {
    decision = 'promote';
    reason = `canary failure ratio ${canary.failure_ratio.toFixed(4)} ≤ ${limit.toFixed(4)} over ${canary.requests} requests`;
  }
  return { decision, reason, canary, production };
}

const opts = parseArgs(process.argv.slice(2));
const before = opts.before === undefined ? '' : readFileSync(opts.before, 'utf8');
const after = readFileSync(opts.after, 'utf8');
process.stdout.write(`${JSON.stringify(verdict(windowCounts(before, after, opts.model), opts))}\n`);
