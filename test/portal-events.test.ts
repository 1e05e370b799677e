/**
 * SPEC §7, row by row, over real HTTP on every store: the action, then a poll of the feed that finds
 * the right EventType, Target, Outcome, Severity and Controls.
 */
import { sql } from 'kysely';
import * as OTPAuth from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildKey, buildUser, drain, http, login, poll, rawRequest } from './factories.js';
import { startServer, type TestServer } from './harness.js';
import { STORES, createTestDatabase, type TestDatabase } from './stores.js';

/** PolicyChange controls by Target.Type (event-types.ts controlsOf). */
const POLICY = {
  GlobalAcl: ['AC-3', 'AC-6'],
  IpRange: ['AC-3', 'SC-7'],
  PasswordPolicy: ['IA-5', 'AC-7'],
};

for (const kind of STORES) {
  describe(`portal events on ${kind}`, () => {
    let testDb: TestDatabase;
    let server: TestServer;
    let cookie: string;
    let key: string;
    /** Events written since the last call. */
    let since: () => Promise<Array<Record<string, any>>>;

    beforeAll(async () => {
      testDb = await createTestDatabase(kind);
      // Trusting the loopback proxy lets a test speak from other addresses through X-Forwarded-For.
      server = await startServer(testDb, { TRUSTED_PROXIES: '127.0.0.1/32' });
      cookie = await login(server);
      key = (await buildKey(server, cookie, { description: 'portal-events reader' })).key;
      let cursor = (await drain(server, key)).cursor;
      since = async () => {
        const page = await drain(server, key, { cursor });
        cursor = page.cursor;
        return page.events;
      };
    });
    afterAll(async () => {
      await server?.close();
      await testDb?.drop();
    });

    it('POST /api/auth/login and /logout: Login.Success, Login.Failure, Login.Logout; GET /api/me: none', async () => {
      await since();
      const member = await buildUser(server, 'member', 'row-login');
      await http(server, 'POST', '/api/auth/login', { body: { username: 'row-login', password: 'nope' } });
      expect((await http(server, 'GET', '/api/me', { cookie: member.cookie })).body.username).toBe(
        'row-login',
      );
      expect((await http(server, 'POST', '/api/auth/logout', { cookie: member.cookie })).status).toBe(204);
      const events = (await since()).filter((e) => e.Actor.Username === 'row-login');
      expect(events.map((e) => [e.EventType, e.Outcome, e.Severity, e.Target.Type])).toEqual([
        ['Login.Success', 'success', 'info', 'Session'],
        ['Login.Failure', 'failure', 'warning', 'Session'],
        ['Login.Logout', 'success', 'info', 'Session'],
      ]);
    });

    it('a session ended by a password reset or presented after its expiry: Login.Logout (revoked, expired), once', async () => {
      await since();
      const revoked = await buildUser(server, 'member', 'row-revoked');
      const users = (await http(server, 'GET', '/api/admin/users', { cookie })).body as Array<{
        id: number;
        username: string;
      }>;
      const id = users.find((u) => u.username === 'row-revoked')!.id;
      const reset = await http(server, 'PATCH', `/api/admin/users/${id}`, {
        cookie,
        body: { password: 'row-revoked-new-password' },
      });
      expect(reset.status).toBe(200);
      expect((await http(server, 'GET', '/api/me', { cookie: revoked.cookie })).status).toBe(401);

      const expired = await buildUser(server, 'member', 'row-expired');
      await sql`update sessions set expires_at = 1 where user_id = (select id from users where username = 'row-expired')`.execute(
        server.database.db,
      );
      expect((await http(server, 'GET', '/api/me', { cookie: expired.cookie })).status).toBe(401);
      expect((await http(server, 'GET', '/api/me', { cookie: expired.cookie })).status).toBe(401);

      const ended = (await since()).filter((e) => e.EventType === 'Login.Logout');
      expect(
        ended.map((e) => [e.Actor.Username, e.Target.Type, e.Outcome, e.Details.reason, e.Details.sessions]),
      ).toEqual([
        ['row-revoked', 'Session', 'success', 'revoked', 1],
        ['row-expired', 'Session', 'success', 'expired', undefined],
      ]);
      expect(ended[0]!.Details.revokedBy).toBe('admin');
    });

    it('companies, documents, passwords: Access.Object on read, warning on a credential reveal', async () => {
      await since();
      const company = await http(server, 'POST', '/api/companies', { cookie, body: { name: 'Contoso' } });
      expect(company.status).toBe(201);
      const companyId = company.body.id;
      const doc = await http(server, 'POST', '/api/documents', {
        cookie,
        body: { companyId, title: 'Runbook', body: 'restart the thing' },
      });
      expect(doc.status).toBe(201);
      const cred = await http(server, 'POST', '/api/passwords', {
        cookie,
        body: {
          companyId,
          name: 'Firewall',
          username: 'root',
          password: 'Fw-Secret-Planted-42',
          url: 'https://fw.local',
        },
      });
      expect(cred.status).toBe(201);
      expect(JSON.stringify(cred.body)).not.toContain('Fw-Secret-Planted-42');
      const list = await http(server, 'GET', '/api/passwords', { cookie });
      expect(list.text).not.toContain('Fw-Secret-Planted-42');
      expect(list.body[0]).not.toHaveProperty('password');
      // stored encrypted
      const rows = await server.database.db.selectFrom('credentials').selectAll().execute();
      expect(JSON.stringify(rows)).not.toContain('Fw-Secret-Planted-42');
      expect(
        (await http(server, 'GET', '/api/companies', { cookie })).body.map((c: any) => c.name),
      ).toContain('Contoso');
      expect((await http(server, 'GET', '/api/documents', { cookie })).body[0]).not.toHaveProperty('body');
      // listing and creating are not reads of one resource
      expect((await since()).filter((e) => e.EventType === 'Access.Object')).toEqual([]);

      expect((await http(server, 'GET', `/api/companies/${companyId}`, { cookie })).body.name).toBe(
        'Contoso',
      );
      expect((await http(server, 'GET', `/api/documents/${doc.body.id}`, { cookie })).body.body).toBe(
        'restart the thing',
      );
      const revealed = await http(server, 'GET', `/api/passwords/${cred.body.id}`, { cookie });
      expect(revealed.body.password).toBe('Fw-Secret-Planted-42');
      const reads = (await since()).filter((e) => e.EventType === 'Access.Object');
      expect(
        reads.map((e) => [e.Target.Type, e.Target.Id, e.Target.Name, e.Severity, e.Outcome, e.Category]),
      ).toEqual([
        ['Company', String(companyId), 'Contoso', 'info', 'success', 'Access'],
        ['Document', String(doc.body.id), 'Runbook', 'info', 'success', 'Access'],
        ['Password', String(cred.body.id), 'Firewall', 'warning', 'success', 'Access'],
      ]);
      for (const e of reads) {
        expect(e.Controls).toEqual(['AU-2']);
        expect(e.Actor.Username).toBe('admin');
        expect(JSON.stringify(e)).not.toContain('Fw-Secret-Planted-42');
      }
      expect((await http(server, 'GET', '/api/companies/999999', { cookie })).status).toBe(404);
    });

    it('PUT /api/admin/settings/acl: PolicyChange GlobalAcl; a refusal is 403 + Access.Denied naming user and resource', async () => {
      const company = (await http(server, 'POST', '/api/companies', { cookie, body: { name: 'Fabrikam' } }))
        .body;
      const member = await buildUser(server, 'member', 'acl-member');
      await since();
      const before = (await http(server, 'GET', '/api/admin/settings/acl', { cookie })).body;
      const after = { member: { companies: 'none', documents: 'read', passwords: 'none' } };
      const put = await http(server, 'PUT', '/api/admin/settings/acl', { cookie, body: after });
      expect(put.status).toBe(200);
      expect(put.body).toEqual(after);
      const refused = await http(server, 'GET', `/api/companies/${company.id}`, { cookie: member.cookie });
      expect(refused.status).toBe(403);
      expect(refused.body.Error).toBe('forbidden');
      expect(
        (
          await http(server, 'POST', '/api/documents', {
            cookie: member.cookie,
            body: { companyId: company.id, title: 't', body: 'b' },
          })
        ).status,
      ).toBe(403);
      const events = await since();
      const change = events.find((e) => e.EventType === 'PolicyChange')!;
      expect(change).toMatchObject({
        Severity: 'warning',
        Outcome: 'success',
        Target: { Type: 'GlobalAcl' },
        Controls: POLICY.GlobalAcl,
      });
      expect(change.Details.before).toEqual(before);
      expect(change.Details.after).toEqual(after);
      const denied = events.filter((e) => e.EventType === 'Access.Denied');
      expect(
        denied.map((e) => [
          e.Actor.Username,
          e.Target.Type,
          e.Target.Id,
          e.Target.Name,
          e.Outcome,
          e.Severity,
        ]),
      ).toEqual([
        ['acl-member', 'Company', String(company.id), 'Fabrikam', 'denied', 'warning'],
        ['acl-member', 'Document', null, null, 'denied', 'warning'],
      ]);
      expect(denied[0]!.Controls).toEqual(['AC-7', '3.1.8']);
      await http(server, 'PUT', '/api/admin/settings/acl', { cookie, body: before });
      const bad = await http(server, 'PUT', '/api/admin/settings/acl', {
        cookie,
        body: { member: { companies: 'all', documents: 'read', passwords: 'none' } },
      });
      expect(bad.status).toBe(400);
      expect(bad.body.Message).toContain('companies');
    });

    it('PUT /api/admin/settings/ip-access: PolicyChange IpRange, enforced first, no self-lockout', async () => {
      await since();
      const from = (ip: string) => ({ 'x-forwarded-for': ip, 'content-type': 'application/json', cookie });
      const lockout = await rawRequest(`${server.url}/api/admin/settings/ip-access`, {
        method: 'PUT',
        headers: from('198.51.100.10'),
        body: JSON.stringify({ allow: ['10.0.0.0/8'], block: [] }),
      });
      expect(lockout.status).toBe(400);
      expect(lockout.body.Message).toMatch(/lock out.*198\.51\.100\.10/);
      const badCidr = await http(server, 'PUT', '/api/admin/settings/ip-access', {
        cookie,
        body: { allow: [], block: ['10.0.0.0/40'] },
      });
      expect(badCidr.status).toBe(400);
      expect(badCidr.body.Message).toContain('10.0.0.0/40');
      const ok = await http(server, 'PUT', '/api/admin/settings/ip-access', {
        cookie,
        body: { allow: [], block: ['203.0.113.0/24', '2001:db8::/32'] },
      });
      expect(ok.status).toBe(200);
      const blocked = await rawRequest(`${server.url}/api/auth/login`, {
        method: 'POST',
        headers: { 'x-forwarded-for': '203.0.113.77', 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'admin', password: 'whatever' }),
      });
      expect(blocked.status).toBe(403);
      const feedBlocked = await rawRequest(`${server.url}/api/siem/events`, {
        headers: { 'x-forwarded-for': '203.0.113.77', authorization: `ApiKey ${key}` },
      });
      expect(feedBlocked.status).toBe(403);
      const events = await since();
      const change = events.find((e) => e.EventType === 'PolicyChange')!;
      expect(change).toMatchObject({
        Target: { Type: 'IpRange' },
        Severity: 'warning',
        Controls: POLICY.IpRange,
      });
      expect(change.Details.before).toEqual({ allow: [], block: [] });
      expect(change.Details.after).toEqual({ allow: [], block: ['203.0.113.0/24', '2001:db8::/32'] });
      const denied = events.filter((e) => e.EventType === 'Access.Denied');
      expect(denied.length).toBe(1); // throttled: one record per address per minute
      expect(denied[0]).toMatchObject({
        Ip: '203.0.113.77',
        Outcome: 'denied',
        Target: { Type: 'IpRange' },
        Details: { reason: 'ip_blocked' },
      });
      // the blocked login never reached authentication
      expect(events.filter((e) => e.EventType === 'Login.Failure')).toEqual([]);
      await http(server, 'PUT', '/api/admin/settings/ip-access', { cookie, body: { allow: [], block: [] } });
    });

    it('PUT /api/admin/settings/password-policy: PolicyChange PasswordPolicy; length and lockout enforced', async () => {
      await since();
      const put = await http(server, 'PUT', '/api/admin/settings/password-policy', {
        cookie,
        body: { minLength: 16, lockoutThreshold: 3, lockoutMinutes: 10 },
      });
      expect(put.status).toBe(200);
      const short = await http(server, 'POST', '/api/admin/users', {
        cookie,
        body: { username: 'shorty', password: 'fifteen-chars!!', role: 'member' },
      });
      expect(short.status).toBe(400);
      expect(short.body.Message).toMatch(/password.*16/);
      const created = await http(server, 'POST', '/api/admin/users', {
        cookie,
        body: { username: 'locky', password: 'sixteen-chars!!!', role: 'member' },
      });
      expect(created.status).toBe(201);
      for (let i = 0; i < 3; i++) {
        expect(
          (
            await http(server, 'POST', '/api/auth/login', {
              body: { username: 'locky', password: `wrong-${i}` },
            })
          ).status,
        ).toBe(401);
      }
      // locked: even the right password fails, and says nothing more than a wrong one
      const locked = await http(server, 'POST', '/api/auth/login', {
        body: { username: 'locky', password: 'sixteen-chars!!!' },
      });
      expect(locked.status).toBe(401);
      expect(locked.body.Message).toBe('username or password is incorrect');
      const events = await since();
      const change = events.find((e) => e.EventType === 'PolicyChange')!;
      expect(change).toMatchObject({
        Target: { Type: 'PasswordPolicy' },
        Severity: 'warning',
        Controls: POLICY.PasswordPolicy,
      });
      expect(change.Details.after).toEqual({ minLength: 16, lockoutThreshold: 3, lockoutMinutes: 10 });
      const failures = events.filter((e) => e.EventType === 'Login.Failure' && e.Actor.Username === 'locky');
      expect(failures.map((e) => e.Details.reason)).toEqual([
        'bad_password',
        'bad_password',
        'bad_password',
        'locked_out',
      ]);
      expect(failures[2]!.Details.lockedUntil).toBeDefined();
      // an admin unlocks (AdminAction), then the right password works
      const unlock = await http(server, 'PATCH', `/api/admin/users/${created.body.id}`, {
        cookie,
        body: { unlock: true },
      });
      expect(unlock.status).toBe(200);
      expect(
        (
          await http(server, 'POST', '/api/auth/login', {
            body: { username: 'locky', password: 'sixteen-chars!!!' },
          })
        ).status,
      ).toBe(200);
      await http(server, 'PUT', '/api/admin/settings/password-policy', {
        cookie,
        body: { minLength: 12, lockoutThreshold: 5, lockoutMinutes: 15 },
      });
    });

    it('PUT /api/admin/settings/mfa and TOTP: PolicyChange MfaOption, weakening is critical, codes enforced', async () => {
      const me = await buildUser(server, 'admin', 'mfa-admin');
      const noTotp = await http(server, 'PUT', '/api/admin/settings/mfa', {
        cookie: me.cookie,
        body: { mode: 'required' },
      });
      expect(noTotp.status).toBe(400);
      expect(noTotp.body.Message).toMatch(/enrol TOTP/);
      const start = await http(server, 'POST', '/api/me/totp', { cookie: me.cookie });
      expect(start.status).toBe(200);
      expect(start.body.otpauthUri).toMatch(/^otpauth:\/\/totp\//);
      expect(start.body.qrCodeDataUrl).toMatch(/^data:image\/png;base64,/);
      const totp = OTPAuth.URI.parse(start.body.otpauthUri) as OTPAuth.TOTP;
      expect(
        (
          await http(server, 'POST', '/api/me/totp/confirm', {
            cookie: me.cookie,
            body: { code: '000000' === totp.generate() ? '111111' : '000000' },
          })
        ).status,
      ).toBe(400);
      const confirmed = await http(server, 'POST', '/api/me/totp/confirm', {
        cookie: me.cookie,
        body: { code: totp.generate() },
      });
      expect(confirmed.status).toBe(200);
      expect(confirmed.body.totpEnabled).toBe(true);
      await since();
      expect(
        (
          await http(server, 'PUT', '/api/admin/settings/mfa', {
            cookie: me.cookie,
            body: { mode: 'required' },
          })
        ).status,
      ).toBe(200);
      // password only: refused; a bad code: refused; the right code: in
      expect(
        (
          await http(server, 'POST', '/api/auth/login', {
            body: { username: 'mfa-admin', password: me.password },
          })
        ).status,
      ).toBe(401);
      expect(
        (
          await http(server, 'POST', '/api/auth/login', {
            body: { username: 'mfa-admin', password: me.password, totp: '12345x' },
          })
        ).status,
      ).toBe(400);
      const wrongCode = String((Number(totp.generate()) + 1) % 1_000_000).padStart(6, '0');
      expect(
        (
          await http(server, 'POST', '/api/auth/login', {
            body: { username: 'mfa-admin', password: me.password, totp: wrongCode },
          })
        ).status,
      ).toBe(401);
      const ok = await http(server, 'POST', '/api/auth/login', {
        // The next step's code: the current one confirmed the enrolment and is spent (RFC 6238 §5.2).
        body: {
          username: 'mfa-admin',
          password: me.password,
          totp: totp.generate({ timestamp: Date.now() + 30_000 }),
        },
      });
      expect(ok.status).toBe(200);
      // a user without TOTP cannot sign in with a password alone while MFA is required
      const member = await http(server, 'POST', '/api/admin/users', {
        cookie: me.cookie,
        body: { username: 'no-totp', password: 'no-totp-password-long', role: 'member' },
      });
      expect(member.status).toBe(201);
      expect(
        (
          await http(server, 'POST', '/api/auth/login', {
            body: { username: 'no-totp', password: 'no-totp-password-long' },
          })
        ).status,
      ).toBe(401);
      const weaken = await http(server, 'PUT', '/api/admin/settings/mfa', {
        cookie: me.cookie,
        body: { mode: 'optional' },
      });
      expect(weaken.status).toBe(200);
      const events = await since();
      const changes = events.filter((e) => e.EventType === 'PolicyChange');
      expect(
        changes.map((e) => [e.Target.Type, e.Severity, e.Details.before.mode, e.Details.after.mode]),
      ).toEqual([
        ['MfaOption', 'warning', 'optional', 'required'],
        ['MfaOption', 'critical', 'required', 'optional'],
      ]);
      const failures = events
        .filter((e) => e.EventType === 'Login.Failure')
        .map((e) => [e.Actor.Username, e.Details.reason]);
      expect(failures).toEqual([
        ['mfa-admin', 'totp_required'],
        ['mfa-admin', 'bad_totp'],
        ['no-totp', 'mfa_not_enrolled'],
      ]);
      const success = events.find(
        (e) => e.EventType === 'Login.Success' && e.Actor.Username === 'mfa-admin',
      )!;
      expect(success.Details.method).toBe('password+totp');
      const secret = totp.secret.base32;
      expect(JSON.stringify(events)).not.toContain(secret);
      const userRows = JSON.stringify(await server.database.db.selectFrom('users').selectAll().execute());
      expect(userRows).not.toContain(secret);
    });

    it('GET/POST /api/admin/users, PATCH /api/admin/users/:id: AdminAction', async () => {
      await since();
      const created = await http(server, 'POST', '/api/admin/users', {
        cookie,
        body: { username: 'dave', password: 'dave-password-long', role: 'member' },
      });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ username: 'dave', role: 'member', totpEnabled: false });
      const dup = await http(server, 'POST', '/api/admin/users', {
        cookie,
        body: { username: 'dave', password: 'dave-password-long', role: 'member' },
      });
      expect(dup.status).toBe(409);
      const patched = await http(server, 'PATCH', `/api/admin/users/${created.body.id}`, {
        cookie,
        body: { role: 'admin', password: 'dave-new-password!!' },
      });
      expect(patched.status).toBe(200);
      expect(patched.body.role).toBe('admin');
      const list = await http(server, 'GET', '/api/admin/users', { cookie });
      expect(list.body.map((u: any) => u.username)).toContain('dave');
      expect(list.text).not.toMatch(/password|hash/i);
      const events = (await since()).filter((e) => e.EventType === 'AdminAction');
      expect(
        events.map((e) => [e.Details.action, e.Target.Type, e.Target.Name, e.Severity, e.Category]),
      ).toEqual([
        ['user.created', 'User', 'dave', 'info', 'Admin'],
        ['user.updated', 'User', 'dave', 'info', 'Admin'],
      ]);
      expect(events[1]!.Details.before).toEqual({ role: 'member' });
      expect(events[1]!.Details.after).toEqual({ role: 'admin', passwordChanged: true });
      expect(JSON.stringify(events)).not.toContain('dave-new-password');
      expect(events[0]!.Controls).toEqual(['AU-2']);
      // the last administrator cannot be demoted
      const users = (await http(server, 'GET', '/api/admin/users', { cookie })).body as Array<{
        id: number;
        role: string;
      }>;
      for (const u of users.filter((x) => x.role === 'admin' && x.id !== users[0]!.id)) {
        await http(server, 'PATCH', `/api/admin/users/${u.id}`, { cookie, body: { role: 'member' } });
      }
      const last = await http(server, 'PATCH', `/api/admin/users/${users[0]!.id}`, {
        cookie,
        body: { role: 'member' },
      });
      expect(last.status).toBe(400);
      expect(last.body.Message).toMatch(/last administrator/);
    });

    it('GET /api/siem/events writes a poll record; POST/DELETE keys are PolicyChange SiemKey', async () => {
      await since();
      const k = await buildKey(server, cookie, { description: 'row-key' });
      await poll(server, k.key, { limit: 1 });
      await http(server, 'DELETE', `/api/admin/siem/keys/${k.id}`, { cookie });
      const events = (await since()).filter((e) => e.Target.Id === k.id);
      expect(events.map((e) => [e.EventType, e.Target.Type, e.Severity])).toEqual([
        ['PolicyChange', 'SiemKey', 'critical'],
        ['PolicyChange', 'SiemKey', 'critical'],
      ]);
      const polls = await drain(server, key, { eventType: 'Audit.SiemPoll' });
      expect(polls.events.some((e) => e.Actor.ClientId === k.id && e.Details.eventCount === 1)).toBe(true);
    });
  });
}
