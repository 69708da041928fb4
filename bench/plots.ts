/**
 * Draws docs/optimization.md's plots from the committed results files (bench/plots/specs.ts):
 * `npm run bench:plots`, or `node dist/bench/plots.js [--out DIR] [NAME ...]` after a build, from
 * the repository root. Writes DIR/optimization-<name>.svg (default docs/images). Every plot that
 * can be drawn is written; a results file whose table is gone or changed shape is reported and the
 * exit status is 1.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { barSvg } from './plots/bars.js';
import { PLOTS } from './plots/specs.js';

function main(argv: string[]): number {
  let out = join('docs', 'images');
  const names: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--out') out = argv[++i] ?? out;
    else names.push(argv[i]!);
  }
  const unknown = names.filter((n) => !PLOTS.some((p) => p.name === n));
  if (unknown.length > 0) {
    process.stderr.write(
      `unknown plot(s): ${unknown.join(', ')}; known: ${PLOTS.map((p) => p.name).join(', ')}\n`,
    );
    return 2;
  }
  mkdirSync(out, { recursive: true });
  let failed = 0;
  for (const spec of PLOTS.filter((p) => names.length === 0 || names.includes(p.name))) {
    const file = join(out, `optimization-${spec.name}.svg`);
    try {
      writeFileSync(file, barSvg(spec.build(readFileSync(spec.source, 'utf8'))));
      process.stdout.write(`wrote ${file} (from ${spec.source})\n`);
    } catch (err) {
      failed++;
      process.stderr.write(`${spec.name}: ${(err as Error).message}\n`);
    }
  }
  return failed > 0 ? 1 : 0;
}

process.exitCode = main(process.argv.slice(2));
