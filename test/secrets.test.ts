/**
 * No secret in any event, log line or error: plant known secrets (passwords, a SIEM key, a session
 * id), run the flows that touch them at debug log level, then grep the feed, the admin viewer, the
 * error bodies and the server log.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildKey, buildUser, drain, http, login, poll } from './factories.js';
import { ADMIN, startServer, type TestServer } from './harness.js';
import { STORES, createTestDatabase, type TestDatabase } from './stores.js';

for (const kind of STORES) {
  describe(`secrets stay secret on ${kind}`, () => {
    let testDb: TestDatabase;
    let server: TestServer;

    beforeAll(async () => {
      testDb = await createTestDatabase(kind);
      server = await startServer(testDb, { LOG_LEVEL: 'trace' });
    });
    afterAll(async () => {
      await server?.close();
      await testDb?.drop();
    });

    it('keeps passwords, keys and session ids out of events, errors and logs', async () => {
      const cookie = await login(server);
      const sessionId = cookie.split('=')[1]!;
      const member = await buildUser(server, 'member', 'planted-member');
      const { key, id } = await buildKey(server, cookie, { description: 'planted' });
      const secret = key.split('_').pop()!;
      const wrongPassword = 'Planted-Wrong-Password-123';
      const errors: string[] = [];
      errors.push(
        (
          await http(server, 'POST', '/api/auth/login', {
            body: { username: 'admin', password: wrongPassword },
          })
        ).text,
      );
      errors.push(
        (
          await poll(
            server,
            key.replace(/.$/, (c) => (c === '0' ? '1' : '0')),
          )
        ).text,
      );
      errors.push((await poll(server, key, { cursor: `${secret}` })).text);
      errors.push(
        (
          await http(server, 'POST', '/api/admin/siem/keys', {
            cookie,
            rawBody: `{"description":"${secret}`,
            headers: { 'content-type': 'application/json' },
          })
        ).text,
      );
      await http(server, 'GET', '/api/admin/siem/keys', { cookie: member.cookie });
      await http(server, 'DELETE', `/api/admin/siem/keys/${id}`, { cookie });
      // portal secrets: a stored credential (created and revealed), a TOTP enrolment, password changes
      const credentialPlaintext = 'Planted-Credential-Plaintext-9';
      const company = (await http(server, 'POST', '/api/companies', { cookie, body: { name: 'Planted Co' } }))
        .body;
      const cred = await http(server, 'POST', '/api/passwords', {
        cookie,
        body: { companyId: company.id, name: 'planted', username: 'svc', password: credentialPlaintext },
      });
      expect((await http(server, 'GET', `/api/passwords/${cred.body.id}`, { cookie })).body.password).toBe(
        credentialPlaintext,
      );
      const enrol = await http(server, 'POST', '/api/me/totp', { cookie: member.cookie });
      const totpSecret = new URL(enrol.body.otpauthUri).searchParams.get('secret')!;
      expect(totpSecret.length).toBeGreaterThan(15);
      const changedPassword = 'Planted-Changed-Password-77';
      expect(
        (
          await http(server, 'POST', '/api/me/password', {
            cookie: member.cookie,
            body: { currentPassword: member.password, newPassword: changedPassword },
          })
        ).status,
      ).toBe(204);
      const adminSetPassword = 'Planted-Admin-Set-Password-88';
      const users = (await http(server, 'GET', '/api/admin/users', { cookie })).body as Array<{
        id: number;
        username: string;
      }>;
      const memberId = users.find((u) => u.username === member.username)!.id;
      expect(
        (
          await http(server, 'PATCH', `/api/admin/users/${memberId}`, {
            cookie,
            body: { password: adminSetPassword },
          })
        ).status,
      ).toBe(200);
      errors.push(
        (
          await http(server, 'POST', '/api/me/password', {
            cookie,
            body: { currentPassword: wrongPassword, newPassword: 'x' },
          })
        ).text,
      );
      const second = await buildKey(server, cookie, { description: 'reader' });
      // The trail and the poll log are two chains (SPEC §8): drain both.
      const feed = JSON.stringify([
        ...(await drain(server, second.key, { eventType: 'Login.*,Access.*,PolicyChange,AdminAction' }))
          .events,
        ...(await drain(server, second.key, { eventType: 'Audit.SiemPoll' })).events,
      ]);
      expect(feed).toContain('"Target":{"Id":"' + cred.body.id + '","Name":"planted","Type":"Password"}');
      const viewer = (await http(server, 'GET', '/api/admin/audit/events?limit=500', { cookie })).text;
      const logs = server.logs.join('');
      expect(logs.length).toBeGreaterThan(1000);
      const planted = {
        adminPassword: ADMIN.password,
        memberPassword: member.password,
        wrongPassword,
        secret,
        sessionId,
        key,
        credentialPlaintext,
        totpSecret,
        changedPassword,
        adminSetPassword,
      };
      for (const [name, value] of Object.entries(planted)) {
        expect(feed.includes(value), `${name} in feed`).toBe(false);
        expect(viewer.includes(value), `${name} in viewer`).toBe(false);
        expect(logs.includes(value), `${name} in log`).toBe(false);
        for (const e of errors) expect(e.includes(value), `${name} in error ${e}`).toBe(false);
      }
      // and the stores hold no plaintext either
      const keyRows = JSON.stringify(await server.database.db.selectFrom('siem_keys').selectAll().execute());
      const sessionRows = JSON.stringify(
        await server.database.db.selectFrom('sessions').selectAll().execute(),
      );
      const userRows = JSON.stringify(await server.database.db.selectFrom('users').selectAll().execute());
      expect(keyRows).not.toContain(secret);
      expect(sessionRows).not.toContain(sessionId);
      expect(userRows).not.toContain(ADMIN.password);
      expect(userRows).not.toContain(member.password);
      expect(userRows).not.toContain(totpSecret);
      expect(
        JSON.stringify(await server.database.db.selectFrom('credentials').selectAll().execute()),
      ).not.toContain(credentialPlaintext);
    });

    it('refuses to start a node whose data key differs from the one the database was set up with', async () => {
      const other = { DATA_KEY: Buffer.alloc(32, 9).toString('base64') };
      await expect(startServer(testDb, other)).rejects.toThrow(/DATA_KEY does not match/);
      if (kind === 'postgres') {
        // Two nodes without DATA_KEY: each would generate a data.key of its own in its DATA_DIR.
        const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'itp-node-b-'));
        try {
          await expect(startServer({ ...testDb, env: { ...testDb.env, DATA_DIR: dataDir } })).rejects.toThrow(
            /every node on one database needs the same DATA_KEY/i,
          );
        } finally {
          await fs.rm(dataDir, { recursive: true, force: true });
        }
      }
      // A database from before the check value: a wrong key that cannot open a stored secret may not
      // write the check value (and lock the right nodes out).
      await http(server, 'POST', '/api/passwords', {
        cookie: await login(server),
        body: {
          companyId: (
            await http(server, 'POST', '/api/companies', { cookie: await login(server), body: { name: 'K' } })
          ).body.id,
          name: 'k',
          username: 'u',
          password: 'p',
        },
      });
      await server.database.db.deleteFrom('server_secrets').where('name', '=', 'data_key_check').execute();
      await expect(startServer(testDb, other)).rejects.toThrow(/DATA_KEY does not match/);
      // The node with the right key still works.
      expect((await http(server, 'GET', '/readyz')).status).toBe(200);
    });
  });
}
