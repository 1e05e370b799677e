/**
 * The audit event viewer in Chromium: newest first, the filters (EventType, Severity, Outcome, actor,
 * time range) applied on the server, paging, an event's full JSON on click, and the hourly chart.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildUser, http, login } from '../factories.js';
import {
  assertLabelled,
  heading,
  openPage,
  screenshot,
  signIn,
  startBrowserEnv,
  type BrowserEnv,
} from './browser.js';
import type { Page } from 'playwright-core';

const HOUR = 3_600_000;

const cells = (page: Page, label: string) =>
  page.locator(`.events-table tbody td[data-label="${label}"]`).allTextContents();

/** Clicks, then waits for the list's answer to be on screen. */
async function andWait(page: Page, click: () => Promise<void>) {
  const answered = page.waitForResponse((r) => /\/api\/admin\/audit\/events\?.*limit=50/.test(r.url()));
  await click();
  await answered;
  await page
    .locator('section[aria-busy="false"]', { has: page.getByRole('heading', { name: 'Events' }) })
    .waitFor();
}

const applyFilters = (page: Page) =>
  andWait(page, () => page.getByRole('button', { name: 'Apply filters' }).click());

describe('Audit event viewer in Chromium', () => {
  let env: BrowserEnv;
  let member: { username: string; cookie: string };
  beforeAll(async () => {
    // A day of earlier activity, stamped by a clock set back hour by hour, so that the chart has a shape.
    let offset = 0;
    env = await startBrowserEnv({}, { clock: { now: () => Date.now() + offset } });
    const seed = await http(env.server, 'POST', '/api/companies', {
      cookie: await login(env.server),
      body: { name: 'Contoso Ltd' },
    });
    for (let h = 22; h >= 1; h--) {
      offset = -h * HOUR + ((h * 7) % 50) * 60_000;
      const session = await login(env.server);
      for (let i = 0; i < 2 + ((h * 5) % 9); i++) {
        await http(env.server, 'GET', `/api/companies/${seed.body.id}`, { cookie: session });
      }
      if (h % 3 === 0) await http(env.server, 'POST', '/api/auth/logout', { cookie: session });
    }
    offset = 0;
    const cookie = await login(env.server);
    for (let i = 0; i < 55; i++) {
      await http(env.server, 'POST', '/api/auth/login', {
        body: { username: 'mallory', password: `guess-${i}` },
      });
    }
    const company = await http(env.server, 'POST', '/api/companies', {
      cookie,
      body: { name: 'Northwind Traders' },
    });
    await http(env.server, 'GET', `/api/companies/${company.body.id}`, { cookie });
    member = await buildUser(env.server, 'member', 'erin');
    await http(env.server, 'GET', '/api/admin/siem/keys', { cookie: member.cookie });
    await http(env.server, 'PUT', '/api/admin/settings/password-policy', {
      cookie,
      body: { minLength: 14, lockoutThreshold: 5, lockoutMinutes: 15 },
    });
  });
  afterAll(async () => {
    await env?.close();
  });

  it('filters, pages, shows an event as JSON, and charts events over time by type', async () => {
    const w = await openPage(env.browser, env.server.url);
    const { page } = w;
    await signIn(page);
    await page.getByRole('link', { name: 'Audit events' }).click();
    await heading(page, 'Audit events');
    await assertLabelled(page);
    await page.locator('.events-table tbody tr').first().waitFor();

    // Newest first: the admin's sign-in in this browser leads.
    const times = await page
      .locator('.events-table tbody time')
      .evaluateAll((els) => els.map((e) => e.getAttribute('datetime') ?? ''));
    expect(times.length).toBe(50);
    expect([...times].sort().reverse()).toEqual(times);
    expect((await cells(page, 'Event type'))[0]).toBe('Login.Success');

    // The chart: bars for this hour, a legend of every type.
    const chart = page.getByRole('img', { name: /^Events by type, per / });
    await chart.waitFor();
    expect(await chart.getAttribute('aria-label')).toMatch(/Login\.Failure 55/);
    expect(await page.locator('.chart svg rect').count()).toBeGreaterThan(0);
    expect(await page.locator('.legend li').allTextContents()).toContain('Access.Denied');
    await screenshot(page, 'events', { fullPage: 'desktop' });

    // EventType, then paging through the 55 failures.
    await page.getByLabel('Event type').selectOption('Login.Failure');
    await applyFilters(page);
    expect(page.url()).toContain('eventType=Login.Failure');
    expect(new Set(await cells(page, 'Event type'))).toEqual(new Set(['Login.Failure']));
    expect((await cells(page, 'Event type')).length).toBe(50);
    await andWait(page, () => page.getByRole('button', { name: 'Older' }).click());
    await page.getByText('Page 2').waitFor();
    expect((await cells(page, 'Event type')).length).toBe(5);
    expect(await page.getByRole('button', { name: 'Older' }).isDisabled()).toBe(true);
    await andWait(page, () => page.getByRole('button', { name: 'Newer' }).click());
    await page.getByText('Page 1').waitFor();
    expect(await page.getByRole('img', { name: /^Events by type, per / }).getAttribute('aria-label')).toMatch(
      /55 events from .* UTC to .* UTC: Login\.Failure 55$/,
    );

    // Severity and Outcome.
    await andWait(page, () => page.getByRole('button', { name: 'Reset' }).click());
    await page.getByLabel('Severity').selectOption('warning');
    await page.getByLabel('Outcome').selectOption('denied');
    await applyFilters(page);
    expect(new Set(await cells(page, 'Event type'))).toEqual(new Set(['Access.Denied']));
    expect(await cells(page, 'Actor')).toEqual([member.username]);

    // Actor.
    await andWait(page, () => page.getByRole('button', { name: 'Reset' }).click());
    await page.getByLabel('Actor').fill('admin');
    await applyFilters(page);
    expect(new Set(await cells(page, 'Actor'))).toEqual(new Set(['admin']));
    expect(await cells(page, 'Event type')).toContain('PolicyChange');

    // Time range: nothing from tomorrow on; everything up to tomorrow.
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 16);
    await page.getByLabel('From', { exact: true }).fill(tomorrow);
    await applyFilters(page);
    await page.getByText('No events match these filters.').waitFor();
    await page.getByLabel('From', { exact: true }).fill('');
    await page.getByLabel('To', { exact: true }).fill(tomorrow);
    await applyFilters(page);
    expect((await cells(page, 'Event type')).length).toBeGreaterThan(0);

    // An event's full JSON, on click.
    await andWait(page, () => page.getByRole('button', { name: 'Reset' }).click());
    await page.getByLabel('Event type').selectOption('PolicyChange');
    await applyFilters(page);
    await page.locator('.events-table tbody tr').first().click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    const json = JSON.parse((await dialog.getByLabel('The event as JSON').textContent()) ?? '{}');
    expect(json).toMatchObject({
      EventType: 'PolicyChange',
      Severity: 'warning',
      Outcome: 'success',
      Target: { Type: 'PasswordPolicy' },
      Actor: { Username: 'admin' },
    });
    expect(json.Details.after.minLength).toBe(14);
    await screenshot(page, 'event-json', { fullPage: false });
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });

    w.assertClean();
    await w.close();
  });
});
