/**
 * No secret in any event, log line or error: plant known secrets (passwords, a SIEM key, a session
 * id), run the flows that touch them at debug log level, then grep the feed, the admin viewer, the
 * error bodies and the server log.
 */
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
      const second = await buildKey(server, cookie, { description: 'reader' });
      const feed = JSON.stringify(
        (
          await drain(server, second.key, {
            eventType: 'Login.*,Access.*,PolicyChange,AdminAction,Audit.SiemPoll',
          })
        ).events,
      );
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
    });
  });
}
