/**
 * The Admin Settings pages in Chromium: each loads its setting, refuses a bad value with the API's
 * message under the field it names, saves a good one (checked over the API), and a TOTP enrolment
 * by QR code makes the next sign-in ask for the code.
 */
import * as OTPAuth from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, login } from '../factories.js';
import {
  ADMIN,
  assertLabelled,
  heading,
  openPage,
  refused,
  screenshot,
  signIn,
  startBrowserEnv,
  type BrowserEnv,
} from './browser.js';
import type { Page } from 'playwright-core';

async function fieldError(page: Page, label: string): Promise<string> {
  const field = page.locator('.field', { has: page.getByLabel(label, { exact: true }) });
  const error = field.locator('.field-error');
  await error.waitFor();
  expect(await page.getByLabel(label, { exact: true }).getAttribute('aria-invalid')).toBe('true');
  return (await error.textContent()) ?? '';
}

async function openSetting(page: Page, tile: RegExp, title: string) {
  await page.goto('/admin');
  await heading(page, 'Admin Settings');
  await page.getByRole('link', { name: tile }).click();
  await heading(page, title);
  await assertLabelled(page);
}

describe('Admin Settings pages in Chromium', () => {
  let env: BrowserEnv;
  let cookie: string;
  beforeAll(async () => {
    env = await startBrowserEnv();
    cookie = await login(env.server);
  });
  afterAll(async () => {
    await env?.close();
  });

  it('password policy: a bad value named under its field, a good one saved', async () => {
    const w = await openPage(env.browser, env.server.url);
    const { page } = w;
    await signIn(page);
    await openSetting(page, /^Password policy/, 'Password policy');
    expect(await page.getByLabel('Minimum password length').inputValue()).toBe('12');
    w.expectConsole(refused(400));
    await page.getByLabel('Minimum password length').fill('4');
    await page.getByRole('button', { name: 'Save policy' }).click();
    expect(await fieldError(page, 'Minimum password length')).toMatch(/^Minimum password length: .*8/);
    await page.getByLabel('Minimum password length').fill('14');
    await page.getByLabel('Lock out after failed sign-ins').fill('');
    await page.getByRole('button', { name: 'Save policy' }).click();
    expect(await fieldError(page, 'Lock out after failed sign-ins')).toMatch(
      /^Lock out after failed sign-ins: /,
    );
    await page.getByLabel('Lock out after failed sign-ins').fill('6');
    await page.getByRole('button', { name: 'Save policy' }).click();
    await page.getByText('Saved.').waitFor();
    const stored = await http(env.server, 'GET', '/api/admin/settings/password-policy', { cookie });
    expect(stored.body).toEqual({ minLength: 14, lockoutThreshold: 6, lockoutMinutes: 15 });
    await screenshot(page, 'settings-password-policy');
    w.assertClean();
    await w.close();
  });

  it('global ACL and IP lists: saved, bad CIDRs named, a self-lockout refused', async () => {
    const w = await openPage(env.browser, env.server.url);
    const { page } = w;
    await signIn(page);
    await openSetting(page, /^Global ACL/, 'Global ACL');
    await page.getByLabel('Credentials').selectOption('none');
    await page.getByRole('button', { name: 'Save ACL' }).click();
    await page.getByText('Saved.').waitFor();
    const acl = await http(env.server, 'GET', '/api/admin/settings/acl', { cookie });
    expect(acl.body.member).toEqual({ companies: 'write', documents: 'write', passwords: 'none' });
    await screenshot(page, 'settings-acl');

    await openSetting(page, /^IP allow\/block lists/, 'IP allow/block lists');
    w.expectConsole(refused(400));
    await page.getByLabel('Blocked addresses').fill('192.0.2.0/24\n10.0.0.0/33');
    await page.getByRole('button', { name: 'Save lists' }).click();
    expect(await fieldError(page, 'Blocked addresses')).toMatch(/^Blocked addresses: /);
    expect(await fieldError(page, 'Blocked addresses')).toContain('10.0.0.0/33');
    // Shown once: under its field, not again in an alert.
    expect(
      await page.locator('.field-error, [role="alert"]').filter({ hasText: '10.0.0.0/33' }).count(),
    ).toBe(1);
    await page.getByLabel('Allowed addresses').fill('198.51.100.0/24');
    await page.getByLabel('Blocked addresses').fill('192.0.2.0/24');
    await page.getByRole('button', { name: 'Save lists' }).click();
    await page.getByRole('alert').filter({ hasText: 'lock out the address making it' }).waitFor();
    await page.getByLabel('Allowed addresses').fill('127.0.0.0/8\n::1/128\n198.51.100.0/24');
    await page.getByRole('button', { name: 'Save lists' }).click();
    await page.getByText('Saved.').waitFor();
    const ip = await http(env.server, 'GET', '/api/admin/settings/ip-access', { cookie });
    expect(ip.body).toEqual({
      allow: ['127.0.0.0/8', '::1/128', '198.51.100.0/24'],
      block: ['192.0.2.0/24'],
    });
    await screenshot(page, 'settings-ip-access');
    // The Admin Settings cards say where each stands, and the intro which changes are which events.
    await page.goto('/admin');
    await heading(page, 'Admin Settings');
    // Each card's status line appears once its settings have loaded (after the heading).
    await page.locator('.tile-status', { hasText: 'Members: ' }).waitFor();
    await page.locator('.tile-status', { hasText: 'allowed' }).waitFor();
    expect(await page.getByRole('link', { name: /^Global ACL/ }).textContent()).toContain(
      'Members: companies read and create, documents read and create, credentials none',
    );
    expect(await page.getByRole('link', { name: /^IP allow\/block lists/ }).textContent()).toContain(
      '3 ranges allowed; 1 range blocked',
    );
    const intro = (await page.locator('.intro').textContent()) ?? '';
    expect(intro).toMatch(
      /password policy, MFA, the global ACL, the IP lists and SIEM keys are recorded as PolicyChange/,
    );
    expect(intro).toMatch(
      /creating users, changing roles and unlocking accounts are recorded as AdminAction/,
    );
    await http(env.server, 'PUT', '/api/admin/settings/ip-access', {
      cookie,
      body: { allow: [], block: [] },
    });
    w.assertClean();
    await w.close();
  });

  it('users and roles: a short password named, a user created and promoted', async () => {
    const w = await openPage(env.browser, env.server.url);
    const { page } = w;
    await signIn(page);
    await openSetting(page, /^Users and roles/, 'Users and roles');
    w.expectConsole(refused(400));
    await page.getByLabel('Username').fill('dana.ops');
    await page.getByLabel('Initial password').fill('short');
    await page.getByRole('button', { name: 'Create user' }).click();
    expect(await fieldError(page, 'Initial password')).toMatch(
      /^Initial password: must be \d+ to 1024 characters/,
    );
    await page.getByLabel('Initial password').fill('a-long-enough-password-for-dana');
    await page.getByRole('button', { name: 'Create user' }).click();
    await page.getByText('User dana.ops created.').waitFor();
    const row = page.getByRole('row', { name: /dana\.ops/ });
    expect(await row.locator('[data-label="Role"]').textContent()).toBe('member');
    await row.getByRole('button', { name: 'Make admin dana.ops' }).click();
    await page.getByText('dana.ops is now an administrator.').waitFor();
    expect(await row.locator('[data-label="Role"]').textContent()).toBe('admin');
    await screenshot(page, 'settings-users');
    w.assertClean();
    await w.close();
  });

  it('MFA: requiring it before enrolling is refused; enrolment by QR code; sign-in then asks for the code', async () => {
    const w = await openPage(env.browser, env.server.url);
    const { page } = w;
    await signIn(page);
    await openSetting(page, /^MFA/, 'MFA');
    w.expectConsole(refused(400));
    await page.getByLabel(/^Required/).check();
    await page.getByRole('button', { name: 'Save MFA setting' }).click();
    await page.getByRole('alert').filter({ hasText: 'mode: enrol TOTP for your own account' }).waitFor();

    await page.getByRole('button', { name: 'Set up authenticator app' }).click();
    const qr = page.getByRole('img', { name: 'QR code to scan with your authenticator app' });
    await qr.waitFor();
    expect(await qr.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).toBe(true);
    await page.getByText("Can't scan?").click();
    const uri = (await page.locator('details code').textContent()) ?? '';
    const totp = OTPAuth.URI.parse(uri) as OTPAuth.TOTP;
    await page.getByLabel('Code from the app').fill('000000' === totp.generate() ? '111111' : '000000');
    await page.getByRole('button', { name: 'Confirm' }).click();
    expect(await fieldError(page, 'Code from the app')).toMatch(/^Code from the app: /);
    await screenshot(page, 'settings-mfa-enrol', { mask: [qr, page.locator('details code')] });
    await page.getByLabel('Code from the app').fill(totp.generate());
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.getByText('Authenticator enrolled.').waitFor();

    await page.getByLabel(/^Required/).check();
    await page.getByRole('button', { name: 'Save MFA setting' }).click();
    await page.getByText('Saved.').waitFor();
    expect((await http(env.server, 'GET', '/api/admin/settings/mfa', { cookie })).body).toEqual({
      mode: 'required',
    });
    await screenshot(page, 'settings-mfa');

    // Sign out; signing in again asks for the code, which the field then takes.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await heading(page, 'Sign in');
    w.expectConsole(refused(401));
    await page.getByLabel('Username').fill(ADMIN.username);
    await page.getByLabel('Password').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const code = page.getByLabel('Authenticator code');
    await code.waitFor();
    expect(
      await page.evaluate(() => (document.activeElement as HTMLInputElement).labels?.[0]?.textContent),
    ).toBe('Authenticator code');
    await page.getByRole('alert').filter({ hasText: 'totp:' }).waitFor();
    await screenshot(page, 'sign-in-totp');
    // The next step's code: the current one confirmed the enrolment and is spent (RFC 6238 §5.2).
    await code.fill(totp.generate({ timestamp: Date.now() + 30_000 }));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    await heading(page, 'Companies');
    w.assertClean();
    await w.close();
  });
});
