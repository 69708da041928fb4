/**
 * Replays corpus cases against the attack server, one at a time, and adds the checks every case
 * shares: no crash, liveness answered within LIVE_BOUND_MS while the case ran and after it, no log
 * line over MAX_LOG_LINE_BYTES, no logged stack trace (a client's mistake is not a fault), and no
 * more than a few KB of log per request. A crashed or frozen server is replaced before the next
 * case.
 */
import type { CorpusCase, Outcome } from '../corpus/case.js';
import { loggedStacks } from '../lib/answers.js';
import { probeLiveness } from '../lib/inferd.js';
import type { PartResult } from '../lib/results.js';
import { isPending, LIVE_BOUND_MS, MAX_LOG_LINE_BYTES, PROFILE } from '../settings.js';
import type { AttackServer } from './attack-server.js';

/** Log bytes a request may cause (an access line is ~300 bytes), plus a fixed allowance per case. */
const LOG_BYTES_PER_REQUEST = 4 * 1024;
const LOG_BYTES_PER_CASE = 32 * 1024;
/** A case that takes longer than this is abandoned (the server is replaced). */
const CASE_BOUND_MS = 180_000;

export interface CaseVerdict {
  id: string;
  finding: string;
  title: string;
  pending: boolean;
  answers: Record<string, number>;
  problems: string[];
  seconds: number;
}

function selected(cases: CorpusCase[]): CorpusCase[] {
  return cases.filter((c) => PROFILE === 'long' || c.profile !== 'long');
}

export async function runCases(
  attack: AttackServer,
  cases: CorpusCase[],
  part: PartResult,
): Promise<CaseVerdict[]> {
  const verdicts: CaseVerdict[] = [];
  for (const c of selected(cases)) {
    const pending = isPending(c.id);
    if (pending && PROFILE === 'short') {
      part.skipped.push(c.id);
      continue;
    }
    const started = performance.now();
    const server = attack.server;
    const logStart = server.mark();
    const probe = probeLiveness(server, 250, 5_000);
    let outcome: Outcome;
    try {
      outcome = await Promise.race([
        c.run(attack.context()),
        new Promise<never>((_, reject) =>
          setTimeout(
            () => reject(new Error(`case did not finish in ${CASE_BOUND_MS} ms`)),
            CASE_BOUND_MS,
          ).unref(),
        ),
      ]);
    } catch (err) {
      outcome = {
        requests: 0,
        answers: {},
        problems: [`case error: ${(err as Error).message.slice(0, 200)}`],
      };
    }
    const live = await probe.stop();
    const problems = [...outcome.problems];
    if (server.crashed) problems.push('crash');
    else {
      if (live.missed > 0 || live.worstMs > LIVE_BOUND_MS) problems.push('frozen (liveness)');
      // Let the access lines of the last answers reach the pipe.
      await new Promise((r) => setTimeout(r, 100));
      if (server.longestLogLine > MAX_LOG_LINE_BYTES) problems.push('unbounded log line');
      if (loggedStacks(server.log()) > 0) problems.push('stack trace logged for a client error');
      const logged = server.logBytes - logStart;
      if (logged > outcome.requests * LOG_BYTES_PER_REQUEST + LOG_BYTES_PER_CASE)
        problems.push('log amplification');
    }
    for (const [k, v] of Object.entries(outcome.answers)) part.answer(k, v);
    for (const p of problems) part.fail(p, c.id);
    verdicts.push({
      id: c.id,
      finding: c.finding,
      title: c.title,
      pending,
      answers: outcome.answers,
      problems,
      seconds: (performance.now() - started) / 1000,
    });
    // A crashed, frozen or still-busy server would fail the next case for this one's sake, and so
    // would one still working on a request that hung (four 40-megapixel PNGs hold the decoders).
    const leftWork = problems.includes('hung') || problems.includes('frozen (liveness)');
    if (server.crashed || leftWork || (await server.liveMs(LIVE_BOUND_MS)) === undefined)
      await attack.restart();
  }
  return verdicts;
}

/** The corpus table: one row per case, its answers and verdict. */
export function verdictTable(verdicts: CaseVerdict[]): string {
  const rows = verdicts.map((v) => {
    const answers = Object.entries(v.answers)
      .map(([k, n]) => `${k}${n > 1 ? ` ×${n}` : ''}`)
      .join(', ');
    const verdict =
      v.problems.length === 0
        ? 'pass'
        : `${v.pending ? 'pending: ' : '**FAIL**: '}${[...new Set(v.problems)].join('; ')}`;
    return `| ${v.id} | ${v.finding} | ${v.seconds.toFixed(1)} | ${answers || '-'} | ${verdict} |`;
  });
  return ['| case | finding | s | answers | verdict |', '|---|---|---|---|---|', ...rows].join('\n');
}
