/**
 * `npm run drill:<name>` (rolling, crash, limits, scale; `drill` = all four): runs the drills'
 * long profile against real processes (HAProxy, inferd replicas, PostgreSQL, Redis), prints each
 * result table and writes them to bench/results/drills.md with the machine and the command
 * (`--short`: the quick profile npm test runs, printed only).
 * Exit 1 when a guarantee fails.
 *
 * Usage: node dist/test/drills/cli.js <rolling|crash|limits|scale|all> [--short] [--no-write]
 *        [--drain-delay-ms N] [--pre-stop-ms N]: the replicas' drain delay (default 3000; 0 shows
 *        what happens without it) and a preStop sleep before SIGTERM in the rolling update.
 */
import { cpus, loadavg } from 'node:os';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { DRILLS, runDrills, type DrillName } from './drills.js';
import { formatResult } from './lib/table.js';
import { PROFILES } from './profile.js';

const argv = process.argv.slice(2);
const which = argv[0] ?? 'all';
const names: DrillName[] =
  which === 'all' ? (Object.keys(DRILLS) as DrillName[]) : which in DRILLS ? [which as DrillName] : [];
if (names.length === 0) {
  process.stderr.write(
    `usage: cli.js <${Object.keys(DRILLS).join('|')}|all> [--short] [--no-write] [--drain-delay-ms N] [--pre-stop-ms N]\n`,
  );
  process.exit(2);
}
const profile = PROFILES[argv.includes('--short') ? 'short' : 'long'];
const flag = (name: string): number | undefined => {
  const at = argv.indexOf(name);
  return at >= 0 ? Number(argv[at + 1]) : undefined;
};
const shutdown = { drainDelayMs: flag('--drain-delay-ms'), preStopMs: flag('--pre-stop-ms') };

const HEADER = `# Cluster drills (issue 16)

What a Kubernetes cluster relies on, shown with real processes on one machine: inferd replicas
(\`node bin/inferd.js serve\`) behind HAProxy 2.6 health-checking \`/v2/health/ready\`, sharing
PostgreSQL and Redis, auth on with API keys made through \`POST /admin/keys\`. How the drills
work and what each setting stands for: docs/deploy/drills.md. Each section below is the latest
long-profile run of one drill (\`npm run drill:<name>\`, or \`npm run drill\` for all), with the
machine's load average before and after: the 2 cores are shared with other work, which shows in
every latency and throughput figure.
`;

const machine = (): string =>
  `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' / ')}`;

const sections: string[] = [];
let started = new Date().toISOString();
let before = machine();
const results = await runDrills(
  names,
  profile,
  (r) => {
    const text = `${formatResult(r)}\nRun ${started}, profile ${profile.name}; machine before: ${before}; after: ${machine()}.\n`;
    process.stdout.write(`${text}\n`);
    sections.push(text);
    started = new Date().toISOString();
    before = machine();
  },
  shutdown,
);

// The long profile's tables go to bench/results/drills.md, one section per drill: a run replaces
// the sections of the drills it ran and keeps the others.
if (profile.name === 'long' && !argv.includes('--no-write')) {
  const file = 'bench/results/drills.md';
  let doc = existsSync(file) ? readFileSync(file, 'utf8') : HEADER;
  results.forEach((r, i) => {
    // A variant (--drain-delay-ms 0, the control run) has a section of its own.
    // (no `--` inside an HTML comment: drain-delay-ms=0)
    const id = [r.drill, ...argv.slice(1)].join(' ').replace(/--([\w-]+) /g, '$1=');
    const open = `<!-- drill:${id} -->`;
    const close = `<!-- /drill:${id} -->`;
    const command = `npm run drill${which === 'all' ? '' : `:${which}`}${argv.length > 1 ? ` -- ${argv.slice(1).join(' ')}` : ''}`;
    const section = `${open}\nCommand: \`${command}\`\n\n${sections[i]}${close}`;
    const a = doc.indexOf(open);
    const b = doc.indexOf(close);
    doc =
      a >= 0 && b > a
        ? doc.slice(0, a) + section + doc.slice(b + close.length)
        : `${doc.trimEnd()}\n\n${section}\n`;
  });
  writeFileSync(file, doc);
  process.stdout.write(`wrote ${file}\n`);
}
process.exit(results.every((r) => r.guarantees.every((g) => g.ok)) ? 0 : 1);
