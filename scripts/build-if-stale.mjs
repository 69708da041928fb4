// `npm start`'s pre-step: compiles only when a source is newer than the last build, so a warm start
// costs a directory walk (~50 ms) instead of a full type-check (5-12 s of tsc on 2 cores).
// The build itself is incremental (tsconfig: dist/.tsbuildinfo); `npm run build` stays a clean build.
import { existsSync, readdirSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const STAMP = 'dist/.tsbuildinfo';
const ROOTS = ['src', 'test', 'bench', 'sdk', 'examples', 'scripts', 'tsconfig.json', 'package.json'];

function newest(path, exts = ['.ts', '.json']) {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return exts.some((e) => path.endsWith(e)) ? st.mtimeMs : 0;
  let max = 0;
  for (const name of readdirSync(path)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    max = Math.max(max, newest(join(path, name), exts));
  }
  return max;
}

const built = existsSync(STAMP) ? statSync(STAMP).mtimeMs : 0;
const sources = Math.max(...ROOTS.map((r) => newest(r)));
if (sources > built) {
  const res = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json'], {
    stdio: 'inherit',
  });
  if (res.status !== 0) process.exit(res.status ?? 1);
  // tsc leaves the stamp alone when nothing it emits changed (e.g. only package.json moved on).
  const now = new Date();
  utimesSync(STAMP, now, now);
}

// The portal (portal/ → dist/portal/, docs/portal.md): rebuilt by Vite when a file of it changed.
const PORTAL_STAMP = 'dist/portal/index.html';
const portalBuilt = existsSync(PORTAL_STAMP) ? statSync(PORTAL_STAMP).mtimeMs : 0;
if (newest('portal', ['.ts', '.json', '.css', '.html', '.svg']) > portalBuilt) {
  const res = spawnSync(
    process.execPath,
    ['node_modules/vite/bin/vite.js', 'build', '--config', 'portal/vite.config.ts'],
    {
      stdio: 'inherit',
    },
  );
  if (res.status !== 0) process.exit(res.status ?? 1);
}
