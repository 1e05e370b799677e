/**
 * A session, a key, or an id of tenant A never reads or changes anything of tenant B — on every store.
 * Tenant A answers the default host (127.0.0.1); tenant B its own host name, sent as Host.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildKey, drain, http, login, rawRequest } from './factories.js';
import { startServer, type TestServer } from './harness.js';
import { STORES, createTestDatabase, type TestDatabase } from './stores.js';

for (const kind of STORES) {
  describe(`tenant isolation on ${kind}`, () => {
    let testDb: TestDatabase;
    let server: TestServer;
    const hostB = `tenant-b.${kind}.example.test`;
    let cookieA: string;
    let cookieB: string;
    const asB = (method: string, path: string, body?: unknown, cookie = cookieB) =>
      rawRequest(`${server.url}${path}`, {
        method,
        headers: { host: hostB, cookie, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
    const ids: Record<string, number> = {};

    beforeAll(async () => {
      testDb = await createTestDatabase(kind);
      server = await startServer(testDb);
      cookieA = await login(server);
      const b = await server.ctx.tenants.createTenant('Tenant B', [hostB], Date.now());
      await server.ctx.users.createUser({
        tenantId: b.id,
        username: 'admin',
        password: 'tenant-b-admin-password',
        role: 'admin',
        actor: { userId: null, username: 'setup', ip: null, userAgent: null },
      });
      const res = await asB(
        'POST',
        '/api/auth/login',
        { username: 'admin', password: 'tenant-b-admin-password' },
        '',
      );
      expect(res.status).toBe(200);
      cookieB = String(res.headers['set-cookie']).split(';')[0]!;
      ids.company = (await asB('POST', '/api/companies', { name: 'B Corp' })).body.id;
      ids.document = (
        await asB('POST', '/api/documents', { companyId: ids.company, title: 'B secret plan', body: 'b' })
      ).body.id;
      ids.password = (
        await asB('POST', '/api/passwords', {
          companyId: ids.company,
          name: 'B vault',
          username: 'b',
          password: 'b-vault-password',
        })
      ).body.id;
      // A has resources too, so ids overlap in number across tenants.
      const a = (await http(server, 'POST', '/api/companies', { cookie: cookieA, body: { name: 'A Corp' } }))
        .body.id;
      await http(server, 'POST', '/api/documents', {
        cookie: cookieA,
        body: { companyId: a, title: 'A doc', body: 'a' },
      });
    });
    afterAll(async () => {
      await server?.close();
      await testDb?.drop();
    });

    it("A's session sees none of B's resources by id or by list", async () => {
      for (const [path, id] of [
        ['/api/companies', ids.company],
        ['/api/documents', ids.document],
        ['/api/passwords', ids.password],
      ] as const) {
        const list = await http(server, 'GET', path, { cookie: cookieA });
        expect(list.text).not.toMatch(/B Corp|B secret plan|B vault/);
        if (path === '/api/passwords') {
          // the same numeric id in A is either A's own row or nothing; never B's
          const one = await http(server, 'GET', `${path}/${id}`, { cookie: cookieA });
          expect(one.text).not.toContain('b-vault-password');
          expect(one.status).toBe(404);
        }
      }
      expect(
        (await http(server, 'GET', `/api/documents/${ids.document}`, { cookie: cookieA })).text,
      ).not.toContain('B secret plan');
      expect(
        (
          await http(server, 'POST', '/api/documents', {
            cookie: cookieA,
            body: { companyId: ids.company, title: 'x', body: 'y' },
          })
        ).status,
      ).toBe(400);
    });

    it("A's session cookie opens nothing on B's host, and changes none of B's settings", async () => {
      for (const [method, path] of [
        ['GET', '/api/me'],
        ['GET', '/api/companies'],
        ['GET', '/api/admin/siem/keys'],
        ['GET', '/api/admin/settings/acl'],
      ] as const) {
        expect((await asB(method, path, undefined, cookieA)).status, path).toBe(401);
      }
      const bAclBefore = (await asB('GET', '/api/admin/settings/acl')).body;
      const put = await http(server, 'PUT', '/api/admin/settings/acl', {
        cookie: cookieA,
        body: { member: { companies: 'none', documents: 'none', passwords: 'none' } },
      });
      expect(put.status).toBe(200);
      expect((await asB('GET', '/api/admin/settings/acl')).body).toEqual(bAclBefore);
      const users = await http(server, 'GET', '/api/admin/users', { cookie: cookieA });
      const bAdminId = (await asB('GET', '/api/admin/users')).body[0].id;
      if (!users.body.some((u: any) => u.id === bAdminId)) {
        expect(
          (
            await http(server, 'PATCH', `/api/admin/users/${bAdminId}`, {
              cookie: cookieA,
              body: { role: 'member' },
            })
          ).status,
        ).toBe(404);
      }
      expect((await asB('GET', '/api/admin/users')).body[0].role).toBe('admin');
    });

    it("A's key reads only A's events; B's key only B's", async () => {
      const keyA = (await buildKey(server, cookieA, { description: 'A reader' })).key;
      const keyB = (await asB('POST', '/api/admin/siem/keys', { description: 'B reader' })).body
        .key as string;
      const feedA = await drain(server, keyA);
      expect(JSON.stringify(feedA.events)).not.toMatch(/B Corp|B vault|B reader|tenant-b/);
      const onB = await rawRequest(`${server.url}/api/siem/events`, {
        headers: { host: hostB, authorization: `ApiKey ${keyA}` },
      });
      expect(onB.status).toBe(401);
      const feedB = await rawRequest(`${server.url}/api/siem/events`, {
        headers: { host: hostB, authorization: `ApiKey ${keyB}` },
      });
      expect(feedB.status).toBe(200);
      expect(JSON.stringify(feedB.body.Events)).not.toMatch(/A Corp|A reader/);
      // A's cursor on B's feed is refused, not honoured
      const crossCursor = await rawRequest(`${server.url}/api/siem/events?cursor=${feedA.cursor}`, {
        headers: { host: hostB, authorization: `ApiKey ${keyB}` },
      });
      expect(crossCursor.status).toBe(400);
    });
  });
}
