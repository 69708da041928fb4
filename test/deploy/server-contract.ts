/**
 * Checks a deploy description against what the server itself serves and accepts: a
 * probe path must be a health route of the access policy (open, no credential even with auth on),
 * and a container's INFERD_* environment must pass the server's own settings validation.
 */
import assert from 'node:assert/strict';
import { loadSettings, SETTING_SOURCES, type Settings } from '../../src/config.js';
import { credentialFor, REST_POLICY } from '../../src/gateway/access-policy.js';

/** Fails unless `GET path` is a health route that needs no credential under any auth setting. */
export function assertOpenHealthRoute(path: string): void {
  assert.equal(REST_POLICY[`GET ${path}`], 'health', `GET ${path} is not a health route of inferd`);
  for (const auth of ['on', 'off'] as const) {
    for (const v2Auth of ['keys', 'off'] as const) {
      assert.equal(credentialFor('health', { auth, v2Auth }), 'none', `GET ${path} needs a credential`);
    }
  }
}

/**
 * The settings inferd would run with under this environment (names checked first: a misspelled
 * INFERD_ variable would be ignored by the server, so it fails here).
 */
export function settingsFromEnv(env: Record<string, string>, flags: Partial<Settings> = {}): Settings {
  const known = new Set(Object.values(SETTING_SOURCES).map((s) => s.env));
  // INFERD_CONFIG is the config file's variable (src/cli/commands/serve.ts), not a setting.
  known.add('INFERD_CONFIG');
  for (const name of Object.keys(env)) {
    if (name.startsWith('INFERD_')) assert.ok(known.has(name), `${name} is not an inferd setting`);
  }
  return loadSettings(flags, env);
}
