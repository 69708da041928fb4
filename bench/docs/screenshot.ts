/**
 * Renders /docs (Swagger UI) of a server with the spam and OCR signatures in headless Chromium and
 * saves bench/results/docs.png, with the spam predict operation expanded to show its example.
 *   npm run build && node dist/bench/docs/screenshot.js
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { pino } from 'pino';
import { loadSettings } from '../../src/config.js';
import { startServer } from '../../src/server.js';
import { makeApiRepository } from '../../test/api/fixtures.js';

const CHROMIUM = '/usr/bin/chromium';
if (!existsSync(CHROMIUM)) {
  console.error(`${CHROMIUM} is missing: apt-get install chromium`);
  process.exit(2);
}
const repo = makeApiRepository();
if (existsSync('models/spam/1/model.onnx')) {
  rmSync(join(repo, 'spam'), { recursive: true, force: true });
  cpSync('models/spam', join(repo, 'spam'), { recursive: true });
}
const dataDir = mkdtempSync(join(tmpdir(), 'inferd-docs-'));
const server = await startServer(
  loadSettings({ modelRepository: repo, host: '127.0.0.1', httpPort: 0, grpcPort: 0, dataDir }, {}),
  { logger: pino({ level: 'silent' }) },
);
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1400 } });
  await page.goto(server.httpUrl + '/docs');
  await page.waitForSelector('.opblock-summary-path');
  await page.click('#operations-spam-predict_spam .opblock-summary');
  await page.waitForSelector(
    '#operations-spam-predict_spam .body-param__example, #operations-spam-predict_spam .microlight',
  );
  mkdirSync('bench/results', { recursive: true });
  await page.screenshot({ path: 'bench/results/docs.png', fullPage: false });
  console.log('wrote bench/results/docs.png');
} finally {
  await browser.close();
  await server.close();
  rmSync(repo, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
}
