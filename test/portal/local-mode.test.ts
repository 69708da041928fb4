/**
 * The portal in local mode (auth off, no admin token): the playground needs no sign-in; and the
 * HTTP contract of the static files (CSP, caching) and of the session routes, without a browser
 * where none is needed.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CONTENT_SECURITY_POLICY } from '../../src/gateway/portal-static.js';
import type { RunningServer } from '../../src/server.js';
import { startTestServer } from '../helpers/server.js';
import { foreign, launch, openPage, screenshots, SKIP_BROWSER } from './browser.js';

describe('portal in local mode (auth off)', () => {
  let repo: string;
  let server: RunningServer;
  before(async () => {
    repo = mkdtempSync(join(tmpdir(), 'inferd-portal-local-'));
    cpSync(resolve('models', 'spam'), join(repo, 'spam'), { recursive: true });
    server = await startTestServer(repo, { auth: 'off', adminToken: undefined });
  });
  after(async () => {
    await server?.close();
    rmSync(repo, { recursive: true, force: true });
  });

  it('serves index.html uncached and hashed assets immutable, under a strict CSP', async () => {
    const res = await fetch(server.httpUrl + '/');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'no-cache');
    const csp = res.headers.get('content-security-policy') ?? '';
    assert.equal(csp, CONTENT_SECURITY_POLICY);
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    const html = await res.text();
    assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script');
    assert.doesNotMatch(html, /https?:\/\//, 'nothing from another host');
    const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]!);
    assert.ok(assets.some((a) => a.endsWith('.js')) && assets.some((a) => a.endsWith('.css')), assets.join());
    for (const a of assets) {
      assert.match(a, /-[A-Za-z0-9_-]{8}\.\w+$/, `${a} is content-hashed`);
      const r = await fetch(server.httpUrl + a);
      assert.equal(r.status, 200, a);
      assert.equal(r.headers.get('cache-control'), 'public, max-age=31536000, immutable');
      await r.arrayBuffer();
    }
    assert.equal((await fetch(server.httpUrl + '/assets/..%2Findex.html')).status, 404);
  });

  it('turns off the Swagger validator badge (it called an outside host)', async () => {
    const init = await (await fetch(server.httpUrl + '/docs/init.js')).text();
    assert.match(init, /validatorUrl: null/);
  });

  it('has nothing to sign in to without keys or an admin token', async () => {
    const s = (await (await fetch(server.httpUrl + '/session')).json()) as Record<string, unknown>;
    assert.deepEqual(s, { auth: 'off', admin_api: false, signed_in: false });
    const res = await fetch(server.httpUrl + '/session', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: 'anything-at-all-here' }),
    });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { code: string }).code, 'invalid_request');
  });

  it('runs the spam playground without signing in', { skip: SKIP_BROWSER }, async () => {
    const browser = await launch();
    try {
      const r = await openPage(browser);
      await r.page.goto(server.httpUrl + '/');
      await r.page.waitForSelector('#f-text');
      await r.page.fill('#f-text', 'Subject: lunch\n\nSee you at noon tomorrow, bring the slides.');
      await r.page.click('form button[type=submit]');
      await r.page.waitForSelector('[data-testid=label]');
      assert.equal(await r.page.textContent('[data-testid=label]'), 'ham');
      assert.match((await r.page.textContent('.who')) ?? '', /local mode/);
      await screenshots(r.page, 'local-playground');
      await r.page.goto(server.httpUrl + '/#/operator');
      await r.page.waitForSelector('[data-testid=state-spam]:text("READY")');
      await screenshots(r.page, 'local-operator');
      assert.deepEqual(foreign(r.requests, server.httpUrl), []);
      assert.deepEqual(r.errors, []);
    } finally {
      await browser.close();
    }
  });
});
