// `npm run test:reliability`: the reliability suite (docs/reliability.md), long profile unless
// RELIABILITY_PROFILE says otherwise. `npm test` runs the same file in its short profile.
import { spawnSync } from 'node:child_process';

const profile = process.env.RELIABILITY_PROFILE ?? 'long';
const res = spawnSync(
  process.execPath,
  [
    '--test',
    '--test-concurrency=1',
    // The long profile's corpus runs ocr-rec on 7 MB inputs on 2 cores: minutes, not seconds.
    '--test-timeout=3600000',
    'dist/test/reliability/reliability.test.js',
  ],
  { stdio: 'inherit', env: { ...process.env, RELIABILITY_PROFILE: profile } },
);
process.exit(res.status ?? 1);
