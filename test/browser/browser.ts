/**
 * The browser harness: Debian's Chromium driven by playwright-core against a real server (the test
 * harness's startServer on SQLite). Every page is watched for console errors and uncaught exceptions
 * (a CSP violation is a console error); a test declares the few it provokes on purpose (a refused
 * request logs "Failed to load resource: ... 403"), and any other fails it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { expect } from 'vitest';
import type { Clock } from '../../src/app-context.js';
import { ADMIN, startServer, type TestServer } from '../harness.js';
import { createTestDatabase, type TestDatabase } from '../stores.js';

export const CHROMIUM = '/usr/bin/chromium';
/**
 * docs/screenshots when asked (`npm run screenshots`), else a temporary folder: every run still takes
 * them and checks for overflow, without leaving changed PNGs in the work tree after each `npm test`.
 */
export const SCREENSHOTS =
  process.env.UPDATE_SCREENSHOTS === '1'
    ? fileURLToPath(new URL('../../docs/screenshots/', import.meta.url))
    : path.join(os.tmpdir(), 'itportal-screenshots');
export const DESKTOP = { width: 1280, height: 800 };
export const MOBILE = { width: 390, height: 844 };

export function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error('Chromium is missing: run `apt-get update && apt-get install -y chromium`');
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-gpu',
      '--no-first-run',
      '--disable-sync',
    ],
  });
}

export interface BrowserEnv {
  server: TestServer;
  browser: Browser;
  testDb: TestDatabase;
  close(): Promise<void>;
}

export async function startBrowserEnv(
  env: Record<string, string> = {},
  options: { clock?: Clock } = {},
): Promise<BrowserEnv> {
  const browser = await launchChromium();
  const testDb = await createTestDatabase('sqlite');
  const server = await startServer(testDb, { LOG_LEVEL: 'warn', ...env }, options);
  return {
    server,
    browser,
    testDb,
    async close() {
      await browser.close();
      await server.close();
      await testDb.drop();
    },
  };
}

export interface WatchedPage {
  page: Page;
  context: BrowserContext;
  /** Declares console errors this test provokes on purpose; each must then appear at least once. */
  expectConsole(pattern: RegExp): void;
  /** Fails on any console error or page error not declared with expectConsole. */
  assertClean(): void;
  close(): Promise<void>;
}

export async function openPage(browser: Browser, baseURL: string): Promise<WatchedPage> {
  const context = await browser.newContext({
    baseURL,
    viewport: DESKTOP,
    locale: 'en-US',
    timezoneId: 'UTC',
  });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: baseURL });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  const problems: string[] = [];
  const expected: RegExp[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console: ${msg.text()} (${msg.location().url})`);
  });
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  return {
    page,
    context,
    expectConsole: (pattern) => expected.push(pattern),
    assertClean() {
      const unexpected = problems.filter((p) => !expected.some((e) => e.test(p)));
      expect(unexpected, 'console errors on the page').toEqual([]);
      for (const e of expected)
        expect(
          problems.some((p) => e.test(p)),
          `expected console line ${e}`,
        ).toBe(true);
    },
    close: () => context.close(),
  };
}

/** "Failed to load resource" as Chromium logs a refused API call: the test provoked it. */
export const refused = (status: number) =>
  new RegExp(`Failed to load resource: the server responded with a status of ${status}`);

export async function signIn(page: Page, username = ADMIN.username, password = ADMIN.password) {
  await page.goto('/');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

export async function heading(page: Page, name: string | RegExp) {
  await page.getByRole('heading', { level: 1, name }).waitFor();
}

/** Every input, select and textarea on the page has a label (a <label>, or aria-label). */
export async function assertLabelled(page: Page) {
  const unlabelled = await page.$$eval('input, select, textarea', (els) =>
    els
      .filter((el) => (el as HTMLInputElement).type !== 'hidden' && !el.classList.contains('offscreen'))
      .filter((el) => {
        const e = el as HTMLInputElement;
        return (
          (e.labels?.length ?? 0) === 0 && !e.getAttribute('aria-label') && !e.getAttribute('aria-labelledby')
        );
      })
      .map((el) => el.outerHTML.slice(0, 120)),
  );
  expect(unlabelled, 'form fields without a label').toEqual([]);
}

/** Nothing wider than the viewport: the page never scrolls sideways. */
export async function assertNoHorizontalOverflow(page: Page) {
  const { scroll, width, culprits } = await page.evaluate(() => {
    const w = document.documentElement.clientWidth;
    const wide = [...document.querySelectorAll('body *')]
      .filter((el) => {
        const r = el.getBoundingClientRect();
        if (r.width === 0 || r.right <= w + 1) return false;
        // Inside a horizontally scrollable wrapper (a wide table) is fine.
        for (let p = el.parentElement; p; p = p.parentElement) {
          const s = getComputedStyle(p);
          if (
            (s.overflowX === 'auto' || s.overflowX === 'scroll') &&
            p.getBoundingClientRect().right <= w + 1
          )
            return false;
          if (p.tagName === 'DIALOG' && !(p as HTMLDialogElement).open) return false;
        }
        return true;
      })
      .slice(0, 5)
      .map((el) => `${el.tagName.toLowerCase()}.${el.className}`);
    return { scroll: document.documentElement.scrollWidth, width: w, culprits: wide };
  });
  expect({ scroll: scroll <= width, culprits }, `page wider than ${width}px`).toEqual({
    scroll: true,
    culprits: [],
  });
}

/**
 * Screenshots of the current page at 1280×800 and at 390×844 into docs/screenshots, after checking
 * that neither overflows sideways. `mask` paints over secrets (a throwaway test key, all the same).
 */
export async function screenshot(
  page: Page,
  name: string,
  options: { mask?: Array<ReturnType<Page['locator']>>; fullPage?: boolean | 'desktop' } = {},
) {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  const original = page.viewportSize() ?? DESKTOP;
  for (const [suffix, size] of [
    ['desktop', DESKTOP],
    ['mobile', MOBILE],
  ] as const) {
    await page.setViewportSize(size);
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    await assertNoHorizontalOverflow(page);
    await page.screenshot({
      path: path.join(SCREENSHOTS, `${name}-${suffix}.png`),
      fullPage: options.fullPage === 'desktop' ? suffix === 'desktop' : (options.fullPage ?? true),
      mask: options.mask,
      maskColor: '#5b6576',
      animations: 'disabled',
      caret: 'hide',
    });
  }
  await page.setViewportSize(original);
}

/**
 * Keyboard only: presses Tab (or Shift+Tab) until the focused element's accessible name matches,
 * checking on the way that every focused control is labelled.
 */
export async function tabTo(
  page: Page,
  name: string | RegExp,
  options: { backwards?: boolean; max?: number } = {},
) {
  const want =
    typeof name === 'string' ? new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) : name;
  const seen: string[] = [];
  for (let i = 0; i < (options.max ?? 60); i++) {
    await page.keyboard.press(options.backwards ? 'Shift+Tab' : 'Tab');
    const focused = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement | null;
      if (!el || el === document.body) return { tag: 'body', name: '' };
      const labelled = el as HTMLInputElement;
      const byLabels = labelled.labels ? [...labelled.labels].map((l) => l.textContent ?? '').join(' ') : '';
      const byAria =
        el.getAttribute('aria-label') ??
        (el.getAttribute('aria-labelledby')
          ? document.getElementById(el.getAttribute('aria-labelledby')!)?.textContent
          : null);
      const accessible = (byAria ?? (byLabels || el.innerText || el.getAttribute('title') || '')).trim();
      return { tag: el.tagName.toLowerCase(), name: accessible.replace(/\s+/g, ' ') };
    });
    seen.push(`${focused.tag}:${focused.name}`);
    if (focused.tag !== 'body') expect(focused.name, `focused ${focused.tag} has no label`).not.toBe('');
    if (want.test(focused.name)) return focused;
  }
  throw new Error(`Tab never reached ${want}; focus went through ${seen.join(' | ')}`);
}

export { ADMIN };
