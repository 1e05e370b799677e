/**
 * Companies, documents and credentials in Chromium: list, create (a missing field named), read; a
 * credential's secret appears only after "Reveal", which the portal records as Access.Object.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, login } from '../factories.js';
import {
  assertLabelled,
  heading,
  openPage,
  refused,
  screenshot,
  signIn,
  startBrowserEnv,
  type BrowserEnv,
} from './browser.js';

describe('Portal resources in Chromium', () => {
  let env: BrowserEnv;
  beforeAll(async () => {
    env = await startBrowserEnv();
  });
  afterAll(async () => {
    await env?.close();
  });

  it('creates and reads companies, documents and credentials; reveals a secret on request only', async () => {
    const w = await openPage(env.browser, env.server.url);
    const { page } = w;
    await signIn(page);
    await heading(page, 'Companies');
    await assertLabelled(page);
    for (const name of ['Northwind Traders', 'Contoso Ltd', 'Fabrikam, Inc.']) {
      await page.getByLabel('Name', { exact: true }).fill(name);
      await page.getByRole('button', { name: 'Create company' }).click();
      await page.getByRole('link', { name }).waitFor();
    }
    await screenshot(page, 'companies');

    await page.getByRole('link', { name: 'Documents' }).click();
    await heading(page, 'Documents');
    await assertLabelled(page);
    w.expectConsole(refused(400));
    await page.getByLabel('Title').fill('Firewall runbook');
    await page.getByRole('button', { name: 'Create document' }).click();
    const companyError = page.locator('.field-bad .field-error');
    await companyError.waitFor();
    // The error starts with the field's label, as on every form (not the API's parameter name).
    expect(await companyError.textContent()).toMatch(/^Company: /);
    await page.getByLabel('Company').selectOption({ label: 'Northwind Traders' });
    await page
      .getByLabel('Text')
      .fill('1. Log in to the console.\n2. Export the rule set before any change.');
    await page.getByRole('button', { name: 'Create document' }).click();
    await page.getByRole('link', { name: 'Firewall runbook' }).waitFor();
    await page.getByLabel('Company').selectOption({ label: 'Contoso Ltd' });
    await page.getByLabel('Title').fill('Backup schedule');
    await page.getByLabel('Text').fill('Nightly at 02:00, kept 30 days.');
    await page.getByRole('button', { name: 'Create document' }).click();
    await page.getByRole('link', { name: 'Backup schedule' }).waitFor();
    await screenshot(page, 'documents');
    await page.getByRole('link', { name: 'Firewall runbook' }).click();
    await heading(page, 'Firewall runbook');
    await page.getByText('Export the rule set').waitFor();

    await page.getByRole('link', { name: 'Credentials' }).click();
    await heading(page, 'Credentials');
    await assertLabelled(page);
    const secret = 'Tr0ub4dor&3-for-the-firewall';
    await page.getByLabel('Company').selectOption({ label: 'Northwind Traders' });
    await page.getByLabel('Name', { exact: true }).fill('Firewall admin');
    await page.getByLabel('Username', { exact: true }).fill('fwadmin');
    await page.getByLabel('Password', { exact: true }).fill(secret);
    await page.getByLabel('URL (optional)').fill('https://fw.northwind.example');
    await page.getByRole('button', { name: 'Store credential' }).click();
    const row = page.getByRole('row', { name: /Firewall admin/ });
    await row.waitFor();
    expect(await page.content()).not.toContain(secret);
    await screenshot(page, 'credentials');

    await row.getByRole('button', { name: 'Reveal the password of Firewall admin' }).click();
    const shown = row.getByLabel('Password of Firewall admin');
    await shown.waitFor();
    expect(await shown.textContent()).toBe(secret);
    await row.getByRole('button', { name: 'Copy' }).click();
    await row.getByText('Copied').waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
    await row.getByRole('button', { name: 'Hide' }).click();
    expect(await page.content()).not.toContain(secret);

    // The reveal is on record: Access.Object, warning, naming the credential.
    const cookie = await login(env.server);
    const events = await http(env.server, 'GET', '/api/admin/audit/events?eventType=Access.Object', {
      cookie,
    });
    const reveal = events.body.Events.find((e: any) => e.Target.Type === 'Password');
    expect(reveal).toMatchObject({ Severity: 'warning', Actor: { Username: 'admin' } });

    // The company page lists what belongs to it (and reading it is recorded too).
    await page.getByRole('link', { name: 'Companies' }).click();
    await page.getByRole('link', { name: 'Northwind Traders' }).click();
    await heading(page, 'Northwind Traders');
    await page.getByRole('link', { name: 'Firewall runbook' }).waitFor();
    await page.getByRole('row', { name: /Firewall admin/ }).waitFor();
    await screenshot(page, 'company');

    w.assertClean();
    await w.close();
  });
});
