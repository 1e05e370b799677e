/**
 * A member in Chromium: the portal without the Administration menu, and every admin page, opened by
 * its address, refused by its API (a 403 recorded as Access.Denied) and saying so. Signing out ends
 * the session.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildUser, http, login } from '../factories.js';
import {
  DESKTOP,
  MOBILE,
  heading,
  openPage,
  refused,
  screenshot,
  signIn,
  startBrowserEnv,
  type BrowserEnv,
} from './browser.js';

const ADMIN_PAGES: Array<[string, string]> = [
  ['/admin', 'Admin Settings'],
  ['/admin/integrations', 'Integrations'],
  ['/admin/integrations/siem', 'SIEM'],
  ['/admin/password-policy', 'Password policy'],
  ['/admin/mfa', 'MFA'],
  ['/admin/acl', 'Global ACL'],
  ['/admin/ip-access', 'IP allow/block lists'],
  ['/admin/users', 'Users and roles'],
  ['/admin/events', 'Audit events'],
];

describe('A member in Chromium', () => {
  let env: BrowserEnv;
  let member: { username: string; password: string };
  beforeAll(async () => {
    env = await startBrowserEnv();
    member = await buildUser(env.server, 'member', 'morgan');
  });
  afterAll(async () => {
    await env?.close();
  });

  it('is refused every admin page, each refusal recorded as Access.Denied', async () => {
    const w = await openPage(env.browser, env.server.url);
    const { page } = w;
    await signIn(page, member.username, member.password);
    await heading(page, 'Companies');
    expect(await page.getByRole('navigation', { name: 'Main' }).textContent()).not.toContain(
      'Admin Settings',
    );

    // On a phone the navigation folds behind "Menu".
    await page.setViewportSize(MOBILE);
    const navLink = page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Documents' });
    expect(await navLink.isVisible()).toBe(false);
    const menu = page.getByRole('button', { name: 'Menu' });
    await menu.click();
    expect(await menu.getAttribute('aria-expanded')).toBe('true');
    await navLink.click();
    await heading(page, 'Documents');
    expect(await navLink.isVisible()).toBe(false);
    await page.setViewportSize(DESKTOP);

    w.expectConsole(refused(403));
    for (const [path, title] of ADMIN_PAGES) {
      await page.goto(path);
      await heading(page, title);
      const alert = page.getByRole('alert').filter({ hasText: 'You need administrator rights' });
      await alert.waitFor();
      expect(await page.locator('form, table').count()).toBe(0);
    }
    await page.goto('/admin/integrations/siem');
    await page.getByRole('alert').waitFor();
    await screenshot(page, 'member-refused');

    const cookie = await login(env.server);
    const denied = await http(
      env.server,
      'GET',
      `/api/admin/audit/events?eventType=Access.Denied&actor=${member.username}&limit=500`,
      { cookie },
    );
    const routes = new Set(denied.body.Events.map((e: any) => e.Target.Name));
    for (const route of [
      'GET /api/admin/siem/keys',
      'GET /api/admin/settings/password-policy',
      'GET /api/admin/settings/mfa',
      'GET /api/admin/settings/acl',
      'GET /api/admin/settings/ip-access',
      'GET /api/admin/users',
      'GET /api/admin/audit/events',
    ]) {
      expect(routes, route).toContain(route);
    }
    expect(denied.body.Events[0]).toMatchObject({ Outcome: 'denied', Target: { Type: 'AdminRoute' } });

    // Signing out ends the session: the portal asks to sign in again.
    await page.goto('/companies');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await heading(page, 'Sign in');
    await page.goto('/companies');
    await heading(page, 'Sign in');
    const events = await http(
      env.server,
      'GET',
      `/api/admin/audit/events?eventType=Login.Logout&actor=${member.username}`,
      {
        cookie,
      },
    );
    expect(events.body.Events.length).toBe(1);

    w.assertClean();
    await w.close();
  });
});
