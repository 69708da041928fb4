/**
 * Issue 23, finding 2: `npm start` ran with auth off on every interface (0.0.0.0). With auth off
 * the server now binds to 127.0.0.1 unless a host is given explicitly (flag, env or config file),
 * and it logs the address it bound.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { loadSettings } from '../../src/config.js';
import { startServer } from '../../src/server.js';
import { makeFixtureRepository } from '../fixtures/repository.js';

describe('bind address', () => {
  it('auth off and no host: listens on 127.0.0.1 only and logs the bound address', async () => {
    const repo = makeFixtureRepository();
    const lines: Array<Record<string, unknown>> = [];
    const sink = new Writable({
      write(chunk: Buffer, _e, cb) {
        for (const l of chunk.toString().split('\n'))
          if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
        cb();
      },
    });
    const settings = loadSettings({ modelRepository: repo, httpPort: 0, grpcPort: 0, auth: 'off' }, {});
    assert.equal(settings.host, '127.0.0.1');
    const s = await startServer(settings, { logger: pino({ level: 'info' }, sink) });
    try {
      const addr = s.app.server.address();
      assert.ok(addr && typeof addr === 'object');
      assert.equal(addr.address, '127.0.0.1');
      assert.equal((await fetch(`http://127.0.0.1:${addr.port}/v2/health/live`)).status, 200);
      const ready = lines.find((l) => l.msg === 'inferd ready') as {
        bind?: { host: string; httpPort: number };
      };
      assert.deepEqual(ready?.bind?.host, '127.0.0.1');
      assert.equal(ready?.bind?.httpPort, addr.port);
      assert.ok(lines.some((l) => /listening on 127\.0\.0\.1 only/.test(String(l.msg))));
    } finally {
      await s.close();
      rmSync(repo, { recursive: true, force: true });
    }
  });

  it('an explicit host wins from flag, env or config file; auth on keeps every interface', () => {
    const dir = mkdtempSync(join(tmpdir(), 'inferd-bind-'));
    try {
      const file = join(dir, 'inferd.json');
      writeFileSync(file, JSON.stringify({ host: '0.0.0.0', auth: 'off' }));
      assert.equal(loadSettings({}, {}, file).host, '0.0.0.0', 'config file');
      assert.equal(loadSettings({ auth: 'off' }, { INFERD_HOST: '::' }).host, '::', 'env');
      assert.equal(loadSettings({ auth: 'off', host: '0.0.0.0' }, {}).host, '0.0.0.0', 'flag');
      assert.equal(loadSettings({}, {}).host, '0.0.0.0', 'auth on (the default)');
      assert.equal(loadSettings({ auth: 'off' }, {}).host, '127.0.0.1');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
