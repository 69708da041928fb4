/**
 * The portal end to end in real Chromium against the real server (real spam and OCR models): sign
 * in with a key, run the spam playground, OCR an uploaded image and see its boxes, create and
 * revoke a key, see usage change, sign out; sign in with the admin token, unload and load a model.
 * Every request any page makes stays on the server's origin. Screenshots of each page at 1280 and
 * 360 px go to the artifacts directory (browser.ts).
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import sharp from 'sharp';
import { KeyAdmin } from '../../src/gateway/key-admin.js';
import { DEFAULT_PLANS } from '../../src/gateway/plans.js';
import { SqliteStore } from '../../src/gateway/store/sqlite.js';
import type { RunningServer } from '../../src/server.js';
import { startTestServer, TEST_ADMIN_TOKEN } from '../helpers/server.js';
import { foreign, launch, openPage, screenshots, SKIP_BROWSER, type Recorded } from './browser.js';

async function textImage(): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="640" height="200">
    <rect width="100%" height="100%" fill="white"/>
    <text x="40" y="90" font-family="DejaVu Sans" font-size="48" fill="black">HELLO WORLD</text>
    <text x="40" y="160" font-family="DejaVu Sans" font-size="40" fill="black">inferd portal</text></svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}

function makeRepository(): string {
  const dir = mkdtempSync(join(tmpdir(), 'inferd-portal-repo-'));
  for (const name of ['spam', 'ocr', 'ocr-det', 'ocr-cls', 'ocr-rec']) {
    cpSync(resolve('models', name), join(dir, name), { recursive: true });
  }
  return dir;
}

describe('portal in Chromium (auth on)', { skip: SKIP_BROWSER }, () => {
  let repo: string;
  let dataDir: string;
  let server: RunningServer;
  let browser: Browser;
  let key: string;
  const pages: Recorded[] = [];

  before(async () => {
    repo = makeRepository();
    dataDir = mkdtempSync(join(tmpdir(), 'inferd-portal-data-'));
    const store = new SqliteStore(join(dataDir, 'inferd.db'));
    const admin = new KeyAdmin(store, Object.keys(DEFAULT_PLANS.plans));
    key = (await admin.create({ name: 'laptop', owner: 'acme', plan: 'pro' })).key;
    await admin.create({ name: 'someone else', owner: 'globex', plan: 'free' });
    await store.close();
    server = await startTestServer(repo, { auth: 'on', dataDir });
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    rmSync(repo, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('a customer signs in, runs spam and OCR, manages keys, sees usage change and signs out', async () => {
    const r = await openPage(browser);
    pages.push(r);
    const { page } = r;
    const origin = server.httpUrl;
    await page.goto(origin + '/');
    await page.waitForSelector('#token');
    await screenshots(page, 'signin');
    await page.fill('#token', key);
    await page.click('form button[type=submit]');
    await page.waitForSelector('h1:text("Playground")');

    // Usage before any call.
    await page.goto(origin + '/#/usage');
    await page.waitForSelector('[data-testid=requests]');
    assert.equal(await page.textContent('[data-testid=requests]'), '0');

    // Spam: the signature's example is prefilled; it is spam.
    await page.goto(origin + '/#/playground/spam');
    await page.waitForSelector('#f-text');
    await page.click('form button[type=submit]');
    await page.waitForSelector('[data-testid=label]');
    assert.equal(await page.textContent('[data-testid=label]'), 'spam');
    assert.match((await page.textContent('.snippets')) ?? '', /curl -sS .*\/v1\/models\/spam\/predict/);
    await screenshots(page, 'playground-spam');

    // OCR: upload a rendered image; boxes are drawn over it and the lines listed.
    await page.goto(origin + '/#/playground/ocr');
    await page.waitForSelector('#f-image');
    await page.setInputFiles('#f-image', {
      name: 'hello.png',
      mimeType: 'image/png',
      buffer: await textImage(),
    });
    await page.click('form button[type=submit]');
    await page.waitForSelector('.overlay svg.boxes polygon', { timeout: 60_000 });
    const boxes = await page.locator('.overlay svg.boxes polygon').count();
    assert.ok(boxes >= 2, `${boxes} boxes`);
    assert.match(((await page.textContent('.ocr table')) ?? '').toUpperCase(), /HELLO\s*WORLD/);
    await screenshots(page, 'playground-ocr');

    // Keys: create one (shown once), then revoke it.
    await page.goto(origin + '/#/keys');
    await page.waitForSelector('#key-name');
    assert.ok(
      !((await page.textContent('table')) ?? '').includes('someone else'),
      "another account's key is hidden",
    );
    await page.fill('#key-name', 'ci runner');
    await page.click('text=Create key');
    const created = (await page.textContent('[data-testid=new-key]', { timeout: 10_000 }))!;
    assert.match(created, /^ik_live_/);
    const row = page.locator('tr', { hasText: 'ci runner' });
    await row.waitFor();
    assert.equal(await row.locator('td.state').textContent(), 'active');
    await screenshots(page, 'keys');
    await row.locator('button:text("Revoke")').click();
    await page.locator('tr', { hasText: 'ci runner' }).locator('td.state:text("revoked")').waitFor();
    const refused = await fetch(origin + '/v1/usage', { headers: { authorization: `Bearer ${created}` } });
    assert.equal(refused.status, 401);
    assert.equal(((await refused.json()) as { code: string }).code, 'revoked_api_key');

    // A failed call: counted, and listed with its request id among the key's recent errors.
    const bad = await fetch(origin + '/v1/models/spam/predict', {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(bad.status, 400);
    const badId = bad.headers.get('x-request-id')!;
    const badCode = ((await bad.json()) as { code: string }).code;

    // Usage changed: the spam, OCR and failed calls.
    await page.goto(origin + '/#/usage');
    await page.waitForSelector('svg.chart rect.series');
    assert.equal(await page.textContent('[data-testid=requests]'), '3');
    assert.match((await page.textContent('main')) ?? '', new RegExp(`${badCode}\\s*${badId}`));
    await screenshots(page, 'usage');

    // The cookie cannot change state without the CSRF token, and is dead after sign-out.
    const cookie = (await r.context.cookies()).find((c) => c.name === 'inferd_session')!;
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, 'Strict');
    const asCookie = { cookie: `inferd_session=${cookie.value}` };
    const noCsrf = await fetch(origin + '/v1/keys', {
      method: 'POST',
      headers: { ...asCookie, 'content-type': 'application/json' },
      body: '{"name":"forged"}',
    });
    assert.equal(noCsrf.status, 403);
    assert.equal((await fetch(origin + '/v1/keys', { headers: asCookie })).status, 200);
    assert.equal(await page.evaluate('localStorage.length + sessionStorage.length'), 0);
    await page.click('text=Sign out');
    await page.waitForSelector('#token');
    assert.equal((await fetch(origin + '/v1/keys', { headers: asCookie })).status, 401);
  });

  it('the operator signs in with the admin token, unloads and loads a model and sees live stats', async () => {
    const r = await openPage(browser, { colorScheme: 'dark' });
    pages.push(r);
    const { page } = r;
    await page.goto(server.httpUrl + '/#/signin');
    await page.fill('#token', TEST_ADMIN_TOKEN);
    await page.click('form button[type=submit]');
    await page.waitForSelector('[data-testid=state-spam]:text("READY")');
    await page.waitForSelector('text=Accounts, keys and usage');
    assert.match((await page.textContent('main')) ?? '', /globex/);
    await page.click('button[aria-label="Unload spam"]');
    await page.waitForSelector('[data-testid=state-spam]:text("UNAVAILABLE")');
    assert.equal(server.service.modelReady('spam'), false);
    await page.click('button[aria-label="Load spam"]');
    await page.waitForSelector('[data-testid=state-spam]:text("READY")', { timeout: 30_000 });
    assert.equal(server.service.modelReady('spam'), true);
    // Two readings of the statistics: a rate per model.
    // Two readings of the statistics give a rate per model ("…" until then).
    await page.waitForSelector('td:text-is("…")', { state: 'detached', timeout: 10_000 });
    await page.locator('.card', { hasText: 'Live traffic' }).locator('td:text-is("spam")').waitFor();
    await screenshots(page, 'operator');
  });

  it('no page requested anything outside the server, and no page logged an error', () => {
    for (const r of pages) {
      assert.ok(r.requests.length > 5, `${r.requests.length} requests recorded`);
      assert.deepEqual(foreign(r.requests, server.httpUrl), []);
      assert.deepEqual(
        r.errors.filter((e) => !/status of 40[13]/.test(e)),
        [],
      );
    }
  });
});
