/**
 * Real Chromium (Debian's /usr/bin/chromium) driven by playwright-core for the portal tests: every
 * request a page makes is recorded (to prove none leaves the server's origin), and screenshots of
 * each page go to an artifacts directory ($INFERD_ARTIFACTS, else a temp dir) at 1280 and 360 px.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const SKIP_BROWSER = existsSync(CHROMIUM)
  ? false
  : `${CHROMIUM} is missing (apt-get install chromium)`;

export const ARTIFACTS = process.env.INFERD_ARTIFACTS ?? join(tmpdir(), 'inferd-portal-artifacts');

export async function launch(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

export interface Recorded {
  context: BrowserContext;
  page: Page;
  /** Every URL the page requested. */
  requests: string[];
  /** Console errors and CSP violations the page reported. */
  errors: string[];
}

export async function openPage(
  browser: Browser,
  opts: { colorScheme?: 'light' | 'dark' } = {},
): Promise<Recorded> {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 900 },
    colorScheme: opts.colorScheme ?? 'light',
  });
  const page = await context.newPage();
  const requests: string[] = [];
  const errors: string[] = [];
  context.on('request', (r) => requests.push(r.url()));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('dialog', (d) => void d.accept());
  return { context, page, requests, errors };
}

/** Requests whose origin is not `origin` (blob: URLs of the page's own origin count as its own). */
export function foreign(requests: readonly string[], origin: string): string[] {
  return requests.filter((u) => {
    try {
      return new URL(u).origin !== origin;
    } catch {
      return true;
    }
  });
}

/** Full-page screenshots at 1280 and 360 px wide: `<name>-1280.png`, `<name>-360.png`. */
export async function screenshots(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  for (const width of [1280, 360]) {
    await page.setViewportSize({ width, height: width === 360 ? 780 : 900 });
    await page.screenshot({ path: join(ARTIFACTS, `${name}-${width}.png`), fullPage: true });
  }
  await page.setViewportSize({ width: 1280, height: 900 });
}
