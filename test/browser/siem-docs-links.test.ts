/**
 * What the auditor and the SIEM engineer reach from the SIEM page, in Chromium:
 * - every link of the SIEM page, and every same-origin link of each guide it opens, clicked: no 404,
 *   no Markdown served raw (guides render as HTML under the CSP; configs download as text/plain);
 * - a key's page: totals, refusals, and the poll history's cursor columns (shortened, copyable) and
 *   Seq ranges, paged beyond the first page;
 * - times carry their zone (table, filters, chart), and the chart counts what the list lists, with
 *   bars for a handful of events.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { appendEvent } from '../../src/modules/audit/audit-store.js';
import { buildKey, http, login, poll } from '../factories.js';
import { heading, openPage, signIn, startBrowserEnv, type BrowserEnv } from './browser.js';

const sameOrigin = (base: string, href: string) => new URL(href, base).origin === new URL(base).origin;

/** The links of the page's main content (and its nav), as absolute URLs with their text. */
async function linksOf(page: Page, scope = 'body') {
  return page
    .locator(`${scope} a[href]`)
    .evaluateAll((as) =>
      as.map((a) => ({ href: (a as HTMLAnchorElement).href, text: a.textContent?.trim() ?? '' })),
    );
}

describe('SIEM page links and the auditor’s views in Chromium', () => {
  let env: BrowserEnv;
  let keyId: string;
  let cursorOut: string;
  beforeAll(async () => {
    env = await startBrowserEnv({ SIEM_RATE_LIMIT_PER_MINUTE: '100000' });
    const cookie = await login(env.server);
    // Enough events for 105 polls, and a handful of PolicyChanges for the chart.
    const tenantId = await env.server.ctx.tenants.defaultTenantId(Date.now());
    for (let i = 0; i < 120; i++) {
      await appendEvent(
        env.server.database.db,
        tenantId,
        {
          eventType: 'Access.Object',
          outcome: 'success',
          actor: { userId: null, username: 'seed', ip: '10.0.0.9', userAgent: 'seed' },
          target: { type: 'Document', id: String(i), name: `Doc ${i}` },
          details: { i },
        },
        Date.now() - 3_600_000,
      );
    }
    for (const minLength of [12, 13, 14, 15, 16]) {
      const res = await http(env.server, 'PUT', '/api/admin/settings/password-policy', {
        cookie,
        body: { minLength, lockoutThreshold: 5, lockoutMinutes: 15 },
      });
      expect(res.status).toBe(200);
    }
    // Two changes at the start of this hour: a chart rounded to the hour would count them in a
    // range that starts later in the hour; the list does not.
    const hourStart = Math.floor(Date.now() / 3_600_000) * 3_600_000 + 1000;
    for (const id of ['early-1', 'early-2']) {
      await appendEvent(
        env.server.database.db,
        tenantId,
        {
          eventType: 'PolicyChange',
          outcome: 'success',
          actor: { userId: null, username: 'seed', ip: '10.0.0.9', userAgent: 'seed' },
          target: { type: 'GlobalAcl', id, name: id },
          details: { setting: 'acl' },
        },
        Math.min(hourStart, Date.now() - 1000),
      );
    }
    await env.server.ctx.sequencer.catchUp(tenantId, 'trail');
    const k = await buildKey(env.server, cookie, { description: 'Auditor probe' });
    keyId = k.id;
    // 105 polls: more than one page of history (100). The first reads from the start, a retry of it
    // re-reads the same events, then the rest follow the cursor.
    const first = await poll(env.server, k.key, { limit: 2 });
    cursorOut = first.body.NextCursor;
    await poll(env.server, k.key, { limit: 2 });
    let cursor = cursorOut;
    for (let i = 0; i < 103; i++)
      cursor = (await poll(env.server, k.key, { cursor, limit: 1 })).body.NextCursor;
    const wrong = `${k.key.slice(0, -1)}${k.key.endsWith('a') ? 'b' : 'a'}`;
    expect((await poll(env.server, wrong, { limit: 1 })).status).toBe(401);
  }, 120_000);
  afterAll(async () => {
    await env?.close();
  });

  it('follows every link of the SIEM page and of each guide: nothing 404, nothing served as Markdown', async () => {
    const w = await openPage(env.browser, env.server.url);
    const { page, context } = w;
    // Every tab of the context, guides included: a CSP violation (an inline style or script in a
    // rendered guide) is a console error.
    const tabErrors: string[] = [];
    context.on('console', (m) => {
      if (m.type() === 'error' && m.page() !== page) tabErrors.push(`${m.page()?.url()}: ${m.text()}`);
    });
    await signIn(page);
    await page.goto('/admin/integrations/siem');
    await heading(page, 'SIEM');
    await page.getByRole('row', { name: /Auditor probe/ }).waitFor();
    const base = env.server.url;
    const pageLinks = (await linksOf(page, 'main')).filter((l) => sameOrigin(base, l.href));
    expect(pageLinks.length).toBeGreaterThan(8);
    const guides: string[] = [];
    const checked = new Set<string>();

    for (const link of pageLinks) {
      const url = new URL(link.href);
      if (new URL(page.url()).pathname !== '/admin/integrations/siem') {
        await page.goto('/admin/integrations/siem');
        await heading(page, 'SIEM');
        await page.getByRole('row', { name: /Auditor probe/ }).waitFor();
      }
      if (url.pathname.startsWith('/docs/')) {
        // A guide opens in a new tab: click it there, as a reader would.
        const [tab] = await Promise.all([
          context.waitForEvent('page'),
          page.locator(`main a[href="${url.pathname}${url.hash}"]`).first().click(),
        ]);
        await tab.waitForLoadState();
        expect(await tab.evaluate(() => document.contentType), link.href).toBe('text/html');
        expect(await tab.locator('main.doc h1').count(), link.href).toBe(1);
        guides.push(url.pathname);
        await tab.close();
      } else {
        // An in-app link: the app answers with a page, never "Page not found".
        await page.locator(`main a[href="${url.pathname}"]`).first().click();
        await page.waitForURL((u) => u.pathname === url.pathname);
        await page.locator('h1').first().waitFor();
        expect(await page.locator('h1').first().textContent(), link.href).not.toBe('Page not found');
      }
      checked.add(link.href);
    }
    expect(guides).toEqual(
      expect.arrayContaining([
        '/docs/siem/README.md',
        '/docs/siem/splunk/README.md',
        '/docs/troubleshooting.md',
      ]),
    );

    // Every same-origin link of each guide, clicked in the guide.
    const guidePage = await context.newPage();
    let downloads = 0;
    for (const guide of new Set(guides)) {
      await guidePage.goto(guide);
      const links = await linksOf(guidePage, 'main.doc');
      for (const [i, link] of links.entries()) {
        if (!sameOrigin(base, link.href)) continue;
        const target = new URL(link.href);
        const where = `${guide} → ${link.href}`;
        if (guidePage.url().split('#')[0] !== new URL(guide, base).href) await guidePage.goto(guide);
        if (target.pathname === guide && target.hash) {
          // An anchor on the same page: its heading exists.
          const id = decodeURIComponent(target.hash.slice(1));
          expect(await guidePage.locator(`[id="${id}"]`).count(), where).toBe(1);
          continue;
        }
        const anchor = guidePage.locator('main.doc a[href]').nth(i);
        if (target.pathname.endsWith('.md')) {
          await Promise.all([guidePage.waitForURL((u) => u.pathname === target.pathname), anchor.click()]);
          await guidePage.waitForLoadState();
          expect(await guidePage.evaluate(() => document.contentType), where).toBe('text/html');
          expect(await guidePage.locator('main.doc h1').count(), where).toBe(1);
          if (target.hash) {
            const id = decodeURIComponent(target.hash.slice(1));
            expect(await guidePage.locator(`[id="${id}"]`).count(), where).toBe(1);
          }
        } else {
          // A config or script: downloaded as text, named as in the guide.
          const [download] = await Promise.all([guidePage.waitForEvent('download'), anchor.click()]);
          expect(download.suggestedFilename(), where).toBe(target.pathname.split('/').pop());
          await download.cancel();
          downloads += 1;
        }
        // The same answer by request: its status and type.
        const res = await context.request.get(link.href);
        expect(res.status(), where).toBe(200);
        expect(res.headers()['content-type'], where).not.toMatch(/markdown/);
        expect(res.headers()['content-type'], where).toMatch(
          target.pathname.endsWith('.md') ? /^text\/html/ : /^text\/plain/,
        );
        checked.add(link.href);
      }
    }
    expect(downloads).toBeGreaterThan(5);
    expect(checked.size).toBeGreaterThan(20);
    // A path outside the shipped docs is a 404, not a file of the server.
    expect((await context.request.get('/docs/..%2Fpackage.json')).status()).toBe(404);
    expect((await context.request.get('/docs/screenshots/events.png')).status()).toBe(404);
    await guidePage.close();
    expect(tabErrors).toEqual([]);
    w.assertClean();
    await w.close();
  });

  it("shows a key's totals, refusals and poll history with cursors and Seq ranges, paged", async () => {
    const w = await openPage(env.browser, env.server.url);
    const { page } = w;
    await signIn(page);
    await page.goto(`/admin/integrations/siem/keys/${keyId}`);
    await heading(page, 'Auditor probe');
    const totals = page.getByRole('region', { name: 'Totals' }).locator('dl');
    await totals.waitFor();
    const totalsText = (await totals.textContent()) ?? '';
    expect(totalsText).toContain('Polls105');
    expect(totalsText).toContain('Events delivered107');
    expect(totalsText).toContain('Unique events105');
    expect(totalsText).toMatch(/Re-read events2(?!\d)/);

    const refusals = page.getByRole('region', { name: 'Refused polls' }).locator('tbody tr');
    await refusals.first().waitFor();
    expect(await refusals.count()).toBe(1);
    expect(await refusals.first().locator('[data-label="Reason"]').textContent()).toBe('wrong secret');

    const rows = page.getByRole('region', { name: 'Poll history' }).locator('tbody tr');
    await rows.first().waitFor();
    expect(await rows.count()).toBe(100);
    await page.getByRole('button', { name: 'Load older polls' }).click();
    await rows.nth(104).waitFor();
    expect(await rows.count()).toBe(105);
    expect(await page.getByRole('button', { name: 'Load older polls' }).count()).toBe(0);
    expect(
      await page.getByRole('region', { name: 'Poll history' }).getByRole('status').last().textContent(),
    ).toContain('105 of 105 polls shown');
    // The oldest poll: from the start (no cursor in), its cursor out shortened, whole on copy.
    const oldest = rows.nth(104);
    expect(await oldest.locator('[data-label="Cursor in"]').textContent()).toContain('none (start)');
    const out = oldest.locator('[data-label="Cursor out"] code');
    expect(await out.getAttribute('title')).toBe(cursorOut);
    const shown = (await out.textContent()) ?? '';
    expect(shown.length).toBeLessThan(cursorOut.length);
    expect(shown).toContain('…');
    expect(cursorOut.startsWith(shown.split('…')[0]!)).toBe(true);
    await oldest.getByRole('button', { name: 'Copy cursor out' }).click();
    await oldest.getByText('Copied').waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(cursorOut);
    expect(await oldest.locator('[data-label="Seq"]').textContent()).toMatch(/^\d+–\d+$/);
    // The next poll (the retry) read the same cursor in as the oldest: the same Seq range.
    expect(await rows.nth(103).locator('[data-label="Seq"]').textContent()).toBe(
      await oldest.locator('[data-label="Seq"]').textContent(),
    );
    // A poll continuing the cursor: its cursor in is the oldest poll's cursor out.
    expect(await rows.nth(102).locator('[data-label="Cursor in"] code').getAttribute('title')).toBe(
      cursorOut,
    );

    // Every time on the page names its zone (the browser's: UTC here), in 24-hour form.
    const times = await page.locator('main time').allTextContents();
    expect(times.length).toBeGreaterThan(100);
    for (const t of times) expect(t).toMatch(/^\d{4}-\d\d-\d\d [0-2]\d:[0-5]\d:[0-5]\d UTC$/);
    w.assertClean();
    await w.close();
  });

  it('charts a handful of events with the list’s count, times in 24-hour form with their zone', async () => {
    const w = await openPage(env.browser, env.server.url);
    const { page } = w;
    await signIn(page);
    // A window holding exactly the admin's recent sign-ins and changes: a handful of events.
    await page.goto('/admin/events?eventType=PolicyChange');
    await heading(page, 'Audit events');
    const listRows = page.locator('.events-table tbody tr');
    await listRows.first().waitFor();
    const listed = await listRows.count();
    expect(listed).toBeGreaterThan(0);
    expect(listed).toBeLessThan(10);
    const chart = page.getByRole('img', { name: /^Events by type, per / });
    await chart.waitFor();
    const label = (await chart.getAttribute('aria-label')) ?? '';
    expect(label).toMatch(
      new RegExp(
        `\\. ${listed} events from \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC to .* UTC: PolicyChange ${listed}$`,
      ),
    );
    // Bars, each with its count, not an empty frame.
    expect(await page.locator('.chart svg rect').count()).toBeGreaterThan(0);
    const counts = (await page.locator('.chart svg .bar-count').allTextContents()).map(Number);
    expect(counts.reduce((a, c) => a + c, 0)).toBe(listed);
    expect(await page.getByText('Times in UTC, 24-hour').count()).toBe(1);

    // From/To take the table's form (24-hour, the zone in the hint); the chart keeps the list's count
    // for that exact range (not rounded to the hour).
    // From the newest event's minute: the changes at the start of the hour fall before it.
    const lastTime = (await listRows.first().locator('time').textContent())!;
    const firstTime = lastTime;
    const minute = (t: string) => t.slice(0, 16);
    await page.getByLabel('From', { exact: true }).fill(minute(firstTime));
    await page.getByLabel('To', { exact: true }).fill(`${minute(lastTime)}:59`);
    expect(await page.getByText('24-hour, UTC (UTC)').count()).toBe(2);
    const answered = page.waitForResponse((r) =>
      /\/api\/admin\/audit\/events\?.*from=.*limit=50/.test(r.url()),
    );
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await answered;
    await page
      .locator('section[aria-busy="false"]', {
        has: page.getByRole('heading', { name: 'Events', exact: true }),
      })
      .waitFor();
    const inRange = await page.locator('.events-table tbody tr').count();
    expect(inRange).toBeGreaterThan(0);
    expect(inRange).toBeLessThan(listed);
    const label2 = page.getByRole('img', {
      name: new RegExp(`\\. ${inRange} events from ${minute(firstTime)}:00 UTC`),
    });
    await label2.waitFor();
    expect(await page.getByLabel('From', { exact: true }).inputValue()).toBe(minute(firstTime));
    // A time that is not one: the API's message, under the field, with its label.
    await page.getByLabel('From', { exact: true }).fill('yesterday 3pm');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.locator('.field-bad .field-error').first().waitFor();
    expect(await page.locator('.field-bad .field-error').first().textContent()).toBe(
      'From: expected a 24-hour time such as 2026-12-07 14:30, in UTC',
    );
    w.assertClean();
    await w.close();
  });
});
