/**
 * The SIEM key flow in a real browser: sign in → Admin Settings → Integrations → Data → SIEM →
 * Generate New Key → poll with the shown key over HTTP → key listed without its secret after a
 * reload → its poll history shows the poll → Revoke → the key is refused. Once with the mouse (taking
 * the screenshots), once with the keyboard alone.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { poll } from '../factories.js';
import {
  assertLabelled,
  heading,
  openPage,
  refused,
  screenshot,
  signIn,
  startBrowserEnv,
  tabTo,
  type BrowserEnv,
} from './browser.js';

const KEY_FORMAT = /^itp_siem_([0-9a-f]{16})_([0-9a-f]{64})$/;

describe('SIEM key flow in Chromium', () => {
  let env: BrowserEnv;
  beforeAll(async () => {
    env = await startBrowserEnv();
  });
  afterAll(async () => {
    await env?.close();
  });

  it('issues a key shown once, polls with it, lists it without the secret, shows its poll, revokes it', async () => {
    const w = await openPage(env.browser, env.server.url);
    const { page } = w;
    await page.goto('/');
    await heading(page, 'Sign in');
    await expect(page.getByText('First time here?')).toBeTruthy();
    await assertLabelled(page);
    await screenshot(page, 'sign-in');

    await signIn(page);
    await heading(page, 'Companies');
    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Admin Settings' })
      .click();
    await heading(page, 'Admin Settings');
    await screenshot(page, 'admin-settings');
    await page.getByRole('link', { name: /^Integrations/ }).click();
    await heading(page, 'Integrations');
    const dataTab = page.getByRole('tab', { name: 'Data' });
    await dataTab.click();
    expect(await dataTab.getAttribute('aria-selected')).toBe('true');
    await screenshot(page, 'integrations');
    await page.getByRole('tabpanel', { name: 'Data' }).getByRole('link', { name: /^SIEM/ }).click();
    await heading(page, 'SIEM');
    await assertLabelled(page);

    // A bad CIDR: the API's message, naming the field and the entry, under the field.
    w.expectConsole(refused(400));
    await page.getByLabel('Description').fill('Splunk production');
    await page.getByLabel('Allowed CIDRs').fill('127.0.0.1/32, 10.0.0.0/33');
    await page.getByRole('button', { name: 'Generate New Key' }).click();
    const fieldError = page.locator('.field-bad .field-error');
    await fieldError.waitFor();
    expect(await fieldError.textContent()).toContain('Allowed CIDRs: "10.0.0.0/33"');
    // Shown once: under its field, not again in an alert below the form.
    expect(
      await page.locator('.field-error, [role="alert"]').filter({ hasText: '10.0.0.0/33' }).count(),
    ).toBe(1);
    expect(await page.getByLabel('Allowed CIDRs').getAttribute('aria-invalid')).toBe('true');

    await page.getByLabel('Allowed CIDRs').fill('127.0.0.1/32, ::1/128');
    await page.getByRole('button', { name: 'Generate New Key' }).click();
    const shown = page.getByLabel('API key');
    await shown.waitFor();
    const key = await shown.inputValue();
    const [, keyId, secret] = KEY_FORMAT.exec(key) ?? [];
    expect(keyId, key).toBeTruthy();
    await expect(page.getByText("you won't see it again", { exact: false }).isVisible()).resolves.toBe(true);
    // The key is on no command line: it is read into ITPORTAL_SIEM_KEY, and the poll pipes the header
    // to curl. The command, run as shown with that variable set, polls.
    const snippet = (await page.getByLabel('First poll command', { exact: true }).textContent()) ?? '';
    expect(snippet).not.toContain(key);
    expect(snippet).not.toContain(secret!);
    expect(snippet).toContain('"$ITPORTAL_SIEM_KEY"');
    expect(snippet).toContain(`${env.server.url}/api/siem/events`);
    expect(await page.getByLabel('Read the key').textContent()).toContain('read -rsp');
    // Asynchronously: the server answering curl runs in this process.
    const ran = await promisify(execFile)('bash', ['-c', snippet], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ITPORTAL_SIEM_KEY: key },
      encoding: 'utf8',
    });
    expect(Array.isArray((JSON.parse(ran.stdout) as { Events: unknown[] }).Events)).toBe(true);

    await page.getByRole('button', { name: 'Copy key' }).click();
    await page.getByText('Copied').first().waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(key);
    await screenshot(page, 'siem-new-key', {
      mask: [page.getByLabel('API key'), page.getByLabel('First poll command', { exact: true })],
    });

    // The SIEM polls with the key shown, over HTTP.
    const first = await poll(env.server, key, { limit: 100 });
    expect(first.status).toBe(200);
    const served = first.body.Events.length;
    expect(first.body.Events.map((e) => e.EventType)).toContain('PolicyChange');

    // After a reload the page has forgotten the key: listed, never its secret.
    await page.reload();
    await heading(page, 'SIEM');
    expect(await page.getByLabel('API key').count()).toBe(0);
    const row = page.getByRole('row', { name: /Splunk production/ });
    await row.waitFor();
    const rowText = (await row.textContent()) ?? '';
    expect(rowText).toContain(`itp_siem_${keyId}_`);
    expect(rowText).toContain('active');
    expect(rowText).toContain('127.0.0.1/32, ::1/128');
    expect(rowText).toContain('from 127.0.0.1');
    expect(rowText).toContain('by admin');
    expect(await page.content()).not.toContain(secret);
    // How far it has read: its last Seq delivered and the lag behind the log head.
    const lastSeq = first.body.Events[first.body.Events.length - 1]!.Seq as number;
    expect(await row.locator('[data-label="Delivered"]').textContent()).toMatch(
      new RegExp(`^through Seq ${lastSeq.toLocaleString('en-US')}(caught up|[\\d,]+ events behind)`),
    );
    // The log head, the latest checkpoint and the verifier key the server publishes.
    const logSection = page.getByRole('region', { name: 'Tamper-evident log' });
    const published = (
      await (await fetch(`${env.server.url}/api/siem/log/key`, { headers: { accept: 'text/plain' } })).text()
    ).trim();
    expect((await logSection.getByLabel('Verifier key').textContent())?.trim()).toBe(published);
    expect(await logSection.getByLabel('Latest checkpoint').textContent()).toMatch(
      /\/itportal\/\d+\/trail\n\d+\n/,
    );
    expect(await logSection.textContent()).toMatch(/Log head[\d,]+ events \(Seq 0–[\d,]+\)/);
    expect(await logSection.getByLabel('Verify command').textContent()).toContain(
      'itportal verify --key-file',
    );
    // A second key, so that the list in the screenshot has more than one row.
    await page.getByLabel('Description').fill('Sentinel (staging)');
    await page.getByRole('button', { name: 'Generate New Key' }).click();
    await page.getByLabel('API key').waitFor();
    await page.getByRole('button', { name: 'I have stored the key' }).click();
    await page.getByRole('status').filter({ hasText: 'Key “Sentinel (staging)”' }).waitFor();
    expect(await page.locator('.saved').textContent()).toMatch(/is active\. Its secret is no longer shown/);
    await screenshot(page, 'siem-keys');
    // The setup guides it links to are served beside the UI.
    const guides = await page
      .getByRole('region', { name: 'Set up your SIEM' })
      .getByRole('link')
      .evaluateAll((links) => links.map((a) => a.getAttribute('href') ?? ''));
    expect(guides).toContain('/docs/siem/splunk/README.md');
    for (const href of guides) expect((await fetch(env.server.url + href)).status, href).toBe(200);

    // Its poll history: when, from where, how many events, how long.
    await row.getByRole('link', { name: /Poll history/ }).click();
    await heading(page, 'Splunk production');
    const polls = page.getByRole('region', { name: 'Poll history' }).locator('tbody tr');
    await polls.nth(1).waitFor();
    // Two polls: the first-poll command's (run above) and the SIEM's, newest first.
    expect(await polls.count()).toBe(2);
    const pollText = (await polls.first().textContent()) ?? '';
    expect(pollText).toContain('127.0.0.1');
    expect(pollText).toMatch(new RegExp(`Events${served}\\b|${served}`));
    expect(await polls.first().locator('[data-label="Events"]').textContent()).toBe(String(served));
    expect(await polls.first().locator('[data-label="Duration"]').textContent()).toMatch(/^\d+ ms$/);
    await screenshot(page, 'siem-key-history');

    // Revoke, with a confirmation; the key is refused from the next poll on.
    await page.getByRole('button', { name: 'Revoke', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'Revoke this key?' });
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect((await poll(env.server, key, { limit: 1 })).status).toBe(200);
    await page.getByRole('button', { name: 'Revoke', exact: true }).click();
    await dialog.getByRole('button', { name: 'Revoke key' }).click();
    await page.locator('.badge', { hasText: 'revoked' }).waitFor();
    expect(await page.locator('.saved').textContent()).toMatch(/^Revoked: “Splunk production” gets a 401/);
    const after = await poll(env.server, key, { limit: 1 });
    expect(after.status).toBe(401);
    expect(after.headers.get('www-authenticate')).toBe('ApiKey');

    w.assertClean();
    await w.close();
  });

  it('works with the keyboard alone, every focused control labelled', async () => {
    const w = await openPage(env.browser, env.server.url);
    const { page } = w;
    await page.goto('/');
    await heading(page, 'Sign in');
    // The username field has focus on arrival.
    expect(
      await page.evaluate(() => (document.activeElement as HTMLInputElement).labels?.[0]?.textContent),
    ).toBe('Username');
    await page.keyboard.type('admin');
    await tabTo(page, 'Password');
    await page.keyboard.type('admin-password-for-tests');
    await page.keyboard.press('Enter');
    await heading(page, 'Companies');

    await tabTo(page, 'Admin Settings', { backwards: true });
    await page.keyboard.press('Enter');
    await heading(page, 'Admin Settings');
    await tabTo(page, /^Integrations/);
    await page.keyboard.press('Enter');
    await heading(page, 'Integrations');
    await tabTo(page, 'Data');
    await page.keyboard.press('Enter');
    await tabTo(page, /^SIEM/);
    await page.keyboard.press('Enter');
    await heading(page, 'SIEM');

    await tabTo(page, 'Description');
    await page.keyboard.type('Keyboard key');
    await tabTo(page, 'Allowed CIDRs');
    await page.keyboard.type('127.0.0.1');
    await tabTo(page, 'Generate New Key');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'New key for “Keyboard key”' }).waitFor();
    await tabTo(page, 'API key', { max: 3 });
    const key = await page.evaluate(() => (document.activeElement as HTMLInputElement).value);
    expect(key).toMatch(KEY_FORMAT);
    await tabTo(page, 'Copy key');
    await page.keyboard.press('Enter');
    await page.getByText('Copied').first().waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(key);

    expect((await poll(env.server, key, { limit: 10 })).status).toBe(200);

    await page.keyboard.press('F5');
    await heading(page, 'SIEM');
    await tabTo(page, 'Poll history of Keyboard key');
    await page.keyboard.press('Enter');
    await heading(page, 'Keyboard key');
    // The heading renders before the history has loaded: wait for its row, then count.
    const history = page.getByRole('region', { name: 'Poll history' }).locator('tbody tr');
    await history.first().waitFor();
    expect(await history.count()).toBe(1);
    await tabTo(page, 'Revoke');
    await page.keyboard.press('Enter');
    // The dialog opens on Cancel (the safe choice); Tab reaches the confirmation.
    await page.getByRole('dialog', { name: 'Revoke this key?' }).waitFor();
    await tabTo(page, 'Revoke key', { max: 3 });
    await page.keyboard.press('Enter');
    await page.locator('.badge', { hasText: 'revoked' }).waitFor();
    expect((await poll(env.server, key, { limit: 1 })).status).toBe(401);

    w.assertClean();
    await w.close();
  });
});
