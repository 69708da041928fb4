/** The command line: help, version, and settings validated once with messages that name the setting. */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadSettings, SETTING_SOURCES, settingsSchema, SettingsError } from '../../src/config.js';
import { exited, freePort } from '../helpers/spawn.js';

const run = (...args: string[]) =>
  spawnSync(process.execPath, ['bin/inferd.js', ...args], {
    encoding: 'utf8',
    env: { ...process.env, PORT: '' },
  });

describe('cli', () => {
  it('--version prints the package version', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    const r = run('--version');
    assert.equal(r.status, 0);
    assert.equal(r.stdout.trim(), pkg.version);
  });

  it('--help lists the serve command and serve --help its flags', () => {
    assert.match(run('--help').stdout, /serve/);
    const serve = run('serve', '--help').stdout;
    for (const flag of ['--model-repository', '--http-port', '--grpc-port', '--host', '--max-body-bytes']) {
      assert.ok(serve.includes(flag), flag);
    }
  });

  it('serve has one flag per setting, derived from the settings table, each naming its env var', () => {
    const serve = run('serve', '--help').stdout.replace(/\s+/g, ' ');
    for (const key of Object.keys(settingsSchema.shape) as Array<keyof typeof SETTING_SOURCES>) {
      const { flag, env } = SETTING_SOURCES[key];
      assert.ok(serve.includes(`${flag} `), `${key}: no ${flag} in serve --help`);
      assert.ok(serve.includes(`env ${env}`), `${key}: ${env} not named`);
    }
    // A flag reaches its setting: the value is validated under the setting's name.
    const bad = run('serve', '--grpc-max-concurrent-streams', '0');
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /invalid setting grpcMaxConcurrentStreams \(flag --grpc-max-concurrent-streams/);
  });

  it('serve is the default command: flags alone reach its settings', () => {
    const r = run('--http-port', '70000');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /httpPort \(flag --http-port, env INFERD_HTTP_PORT\)/);
  });

  // A container's ENTRYPOINT is the CLI: `docker run IMAGE` with no arguments must serve.
  it('no arguments at all starts the server, which drains and exits 0 on SIGTERM', async () => {
    const repo = mkdtempSync(join(tmpdir(), 'inferd-noarg-'));
    const port = await freePort();
    const proc = spawn(process.execPath, ['bin/inferd.js'], {
      env: {
        ...process.env,
        PORT: String(port),
        INFERD_HOST: '127.0.0.1',
        INFERD_GRPC_PORT: '0',
        INFERD_MODEL_REPOSITORY: repo,
        INFERD_DATA_DIR: join(repo, '.data'),
        INFERD_LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    try {
      let ready = 0;
      for (let i = 0; i < 400 && ready !== 200; i++) {
        assert.equal(proc.exitCode, null, `inferd exited: ${stderr}`);
        ready = await fetch(`http://127.0.0.1:${port}/v2/health/ready`).then(
          (r) => r.status,
          () => 0,
        );
        if (ready !== 200) await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(ready, 200, `not ready: ${stderr}`);
      proc.kill('SIGTERM');
      await exited(proc);
      assert.equal(proc.exitCode, 0, stderr);
    } finally {
      proc.kill('SIGKILL');
      rmSync(repo, { recursive: true, force: true });
    }
  });

  it('a bad flag value exits 2 naming the setting, the flag, the env var and the range', () => {
    const r = run('serve', '--http-port', '70000');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /httpPort \(flag --http-port, env INFERD_HTTP_PORT\)/);
    assert.match(r.stderr, /65535/);
  });
});

describe('settings', () => {
  it('defaults, then file < env < flags', () => {
    const dir = mkdtempSync(join(tmpdir(), 'inferd-cfg-'));
    try {
      const file = join(dir, 'inferd.json');
      writeFileSync(file, JSON.stringify({ httpPort: 7000, host: '127.0.0.1', logLevel: 'debug' }));
      const d = loadSettings({}, {});
      assert.equal(d.httpPort, 8080);
      assert.equal(d.modelRepository, './models');
      assert.equal(d.maxBodyBytes, 64 * 1024 * 1024);
      assert.equal(loadSettings({}, { PORT: '9999' }).httpPort, 9999, 'PORT as on Cloud Run');
      const s = loadSettings({ logLevel: 'warn' }, { INFERD_HTTP_PORT: '7100' }, file);
      assert.equal(s.httpPort, 7100);
      assert.equal(s.host, '127.0.0.1');
      assert.equal(s.logLevel, 'warn');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses unknown keys and bad values with actionable messages', () => {
    const dir = mkdtempSync(join(tmpdir(), 'inferd-cfg-'));
    try {
      const file = join(dir, 'bad.json');
      writeFileSync(file, JSON.stringify({ httpPrt: 1 }));
      assert.throws(
        () => loadSettings({}, {}, file),
        (e: unknown) => e instanceof SettingsError && /unknown setting\(s\) httpPrt/.test(e.message),
      );
      writeFileSync(file, '{ nope');
      assert.throws(() => loadSettings({}, {}, file), /not valid JSON/);
      assert.throws(
        () => loadSettings({}, { INFERD_LOG_LEVEL: 'loud' }),
        /logLevel \(flag --log-level, env INFERD_LOG_LEVEL\)/,
      );
      assert.throws(() => loadSettings({ maxBodyBytes: '12' }, {}), /maxBodyBytes.*1024/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
