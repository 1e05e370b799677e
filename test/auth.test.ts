/** Login, sessions and logout over HTTP on every store, each outcome an event. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSessionId } from '../src/modules/auth/auth-service.js';
import { buildKey, drain, http, login } from './factories.js';
import { ADMIN, startServer, type TestServer } from './harness.js';
import { STORES, createTestDatabase, type TestDatabase } from './stores.js';

for (const kind of STORES) {
  describe(`auth on ${kind}`, () => {
    let testDb: TestDatabase;
    let server: TestServer;
    let second: TestServer;
    let key: string;

    beforeAll(async () => {
      testDb = await createTestDatabase(kind);
      server = await startServer(testDb);
      second = await startServer(testDb);
      key = (await buildKey(server, await login(server))).key;
    });
    afterAll(async () => {
      await second?.close();
      await server?.close();
      await testDb?.drop();
    });

    it('opens an HttpOnly SameSite session stored hashed, seen by every node', async () => {
      const res = await http(server, 'POST', '/api/auth/login', {
        body: { username: ADMIN.username, password: ADMIN.password },
      });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ username: 'admin', role: 'admin' });
      const setCookie = res.headers.get('set-cookie')!;
      expect(setCookie).toMatch(/^itp_session=[A-Za-z0-9_-]{43};/);
      expect(setCookie).toMatch(/HttpOnly/i);
      expect(setCookie).toMatch(/SameSite=Strict/i);
      expect(setCookie).toMatch(/Path=\//);
      const cookie = setCookie.split(';')[0]!;
      const sessionId = cookie.split('=')[1]!;
      const rows = await server.database.db.selectFrom('sessions').selectAll().execute();
      expect(JSON.stringify(rows)).not.toContain(sessionId);
      expect(rows.map((r) => r.id_hash)).toContain(hashSessionId(sessionId));
      const me = await http(second, 'GET', '/api/me', { cookie });
      expect(me.status).toBe(200);
      expect(me.body).toMatchObject({ username: 'admin', role: 'admin', tenantId: expect.any(Number) });
    });

    it('records Login.Success, Login.Failure (bad password, unknown user) and Login.Logout', async () => {
      const { cursor } = await drain(server, key);
      const bad = await http(server, 'POST', '/api/auth/login', {
        body: { username: 'admin', password: 'wrong' },
      });
      expect(bad.status).toBe(401);
      const unknown = await http(server, 'POST', '/api/auth/login', {
        body: { username: 'ghost', password: 'wrong' },
      });
      expect(unknown.status).toBe(401);
      expect(unknown.body).toEqual(bad.body);
      const cookie = await login(server);
      const out = await http(server, 'POST', '/api/auth/logout', { cookie });
      expect(out.status).toBe(204);
      expect((await http(server, 'GET', '/api/me', { cookie })).status).toBe(401);
      expect((await http(second, 'GET', '/api/me', { cookie })).status).toBe(401);

      const { events } = await drain(server, key, { cursor });
      const logins = events.filter((e) => e.Category === 'Authentication');
      expect(
        logins.map((e) => [e.EventType, e.Outcome, e.Severity, e.Actor.Username, e.Details.reason ?? null]),
      ).toEqual([
        ['Login.Failure', 'failure', 'warning', 'admin', 'bad_password'],
        ['Login.Failure', 'failure', 'warning', 'ghost', 'unknown_user'],
        ['Login.Success', 'success', 'info', 'admin', null],
        ['Login.Logout', 'success', 'info', 'admin', null],
      ]);
      for (const e of logins) {
        expect(e.Target.Type).toBe('Session');
        expect(e.Ip).toBe('127.0.0.1');
        expect(JSON.stringify(e)).not.toContain('wrong');
      }
      expect(logins[0]!.Controls).toEqual(['AU-2', '3.3.1']);
      expect(logins[3]!.Controls).toEqual(['AU-2']);
    });

    it('requires the session-bound X-CSRF-Token on state-changing requests, and refuses cross-site sign-in', async () => {
      const res = await http(server, 'POST', '/api/auth/login', {
        body: { username: ADMIN.username, password: ADMIN.password },
      });
      const cookie = res.headers.get('set-cookie')!.split(';')[0]!;
      const token = res.body.csrfToken as string;
      expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect((await http(server, 'GET', '/api/me', { cookie })).body.csrfToken).toBe(token);
      const other = await http(server, 'POST', '/api/auth/login', {
        body: { username: ADMIN.username, password: ADMIN.password },
      });
      const body = { description: 'csrf probe' };
      for (const headers of [
        { 'x-csrf-token': '' },
        { 'x-csrf-token': 'forged' },
        { 'x-csrf-token': other.body.csrfToken as string },
      ]) {
        const refused = await http(server, 'POST', '/api/admin/siem/keys', { cookie, body, headers });
        expect(refused.status).toBe(403);
        expect(refused.body.Error).toBe('csrf_failed');
        expect((await http(server, 'POST', '/api/auth/logout', { cookie, headers })).status).toBe(403);
      }
      expect(
        (
          await http(server, 'POST', '/api/admin/siem/keys', {
            cookie,
            body,
            headers: { 'x-csrf-token': token },
          })
        ).status,
      ).toBe(201);
      const crossSite = await http(server, 'POST', '/api/auth/login', {
        body: { username: ADMIN.username, password: ADMIN.password },
        headers: { 'sec-fetch-site': 'cross-site' },
      });
      expect(crossSite.status).toBe(403);
      expect(crossSite.headers.get('set-cookie')).toBeNull();
    });

    it('refuses a missing, forged or expired-by-logout session with 401 JSON', async () => {
      for (const cookie of [undefined, 'itp_session=forged-value']) {
        const res = await http(server, 'GET', '/api/me', { cookie });
        expect(res.status).toBe(401);
        expect(res.body.Error).toBe('unauthenticated');
      }
    });
  });
}
