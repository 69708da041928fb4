/** /openapi.json is valid OpenAPI 3.1 generated from signatures; /docs serves Swagger UI locally. */
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import { makeApiRepository } from './fixtures.js';
import { bearer, startGatewayServer, type GatewayServer } from './server.js';

const CHROMIUM = '/usr/bin/chromium';

describe('OpenAPI and docs', () => {
  let repo: string;
  let g: GatewayServer;
  before(async () => {
    repo = makeApiRepository();
    g = await startGatewayServer(repo);
  });
  after(async () => {
    await g.close();
    rmSync(repo, { recursive: true, force: true });
  });

  it('is a valid OpenAPI 3.1 document with a predict path per model that has a signature', async () => {
    const r = await fetch(g.url + '/openapi.json');
    assert.equal(r.status, 200);
    const spec = (await r.json()) as Record<string, unknown> & { paths: Record<string, unknown> };
    const res = await new Validator().validate(spec);
    assert.equal(res.valid, true, JSON.stringify(res.errors));
    assert.equal(spec.openapi, '3.1.0');
    const paths = Object.keys(spec.paths).sort();
    assert.deepEqual(paths, [
      '/v1/account',
      '/v1/keys',
      '/v1/keys/{id}/revoke',
      '/v1/keys/{id}/rotate',
      '/v1/models',
      '/v1/models/ocr_echo/feedback',
      '/v1/models/ocr_echo/predict',
      '/v1/models/ocr_echo/versions/{version}/predict',
      '/v1/models/spam/feedback',
      '/v1/models/spam/predict',
      '/v1/models/spam/versions/{version}/predict',
      '/v1/usage',
    ]);
  });

  it("each model's example request works against the server", async () => {
    const spec = (await (await fetch(g.url + '/openapi.json')).json()) as {
      paths: Record<string, { post?: { requestBody: { content: Record<string, { example?: unknown }> } } }>;
    };
    const ex = spec.paths['/v1/models/spam/predict']!.post!.requestBody.content['application/json']!.example;
    assert.deepEqual(ex, { text: 'WIN a FREE prize, buy now!' });
    const { key } = await g.admin.create({ name: 'docs', plan: 'unlimited' });
    const r = await fetch(g.url + '/v1/models/spam/predict', {
      method: 'POST',
      headers: bearer(key),
      body: JSON.stringify(ex),
    });
    assert.equal(r.status, 200);
    const image = spec.paths['/v1/models/ocr_echo/predict']!.post!.requestBody.content;
    assert.ok(image['multipart/form-data'], 'image models document the file upload');
  });

  it('/docs and its assets are served locally (no CDN)', async () => {
    const html = await (await fetch(g.url + '/docs')).text();
    assert.ok(!/https?:\/\//.test(html), 'no absolute URL in the docs page');
    for (const src of html.match(/(?:href|src)="([^"]+)"/g)!.map((m) => m.split('"')[1]!)) {
      const r = await fetch(g.url + src);
      assert.equal(r.status, 200, src);
      await r.arrayBuffer();
    }
    assert.equal((await fetch(g.url + '/docs/assets/..%2Fpackage.json')).status, 404);
  });

  it(
    'renders in headless Chromium',
    { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing (apt-get install chromium)` },
    async () => {
      const { chromium } = await import('playwright-core');
      const browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
      });
      try {
        const page = await browser.newPage();
        const external: string[] = [];
        page.on('request', (req) => {
          if (!req.url().startsWith(g.url)) external.push(req.url());
        });
        await page.goto(g.url + '/docs');
        await page.waitForSelector('.opblock-summary-path', { timeout: 20_000 });
        const paths = await page.$$eval('.opblock-summary-path', (els) =>
          els.map((e) => e.textContent ?? ''),
        );
        assert.ok(
          paths.some((p) => p.includes('/v1/models/spam/predict')),
          paths.join(' '),
        );
        assert.deepEqual(external, []);
      } finally {
        await browser.close();
      }
    },
  );
});
