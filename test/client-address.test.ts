/** The client address: the socket peer, or the rightmost untrusted X-Forwarded-For hop behind a trusted proxy. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildKey, drain, login, rawRequest } from './factories.js';
import { startServer, type TestServer } from './harness.js';
import { STORES, createTestDatabase, type TestDatabase } from './stores.js';

async function loginIp(server: TestServer, key: string, xff: string | undefined): Promise<string> {
  const { cursor } = await drain(server, key);
  const res = await rawRequest(`${server.url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(xff ? { 'x-forwarded-for': xff } : {}) },
    body: JSON.stringify({ username: 'nobody', password: 'x' }),
  });
  expect(res.status).toBe(401);
  const { events } = await drain(server, key, { cursor });
  return events.find((e) => e.EventType === 'Login.Failure')!.Ip;
}

for (const kind of STORES) {
  describe(`client address on ${kind}`, () => {
    let testDb: TestDatabase;
    let direct: TestServer;
    let proxied: TestServer;
    let key: string;

    beforeAll(async () => {
      testDb = await createTestDatabase(kind);
      direct = await startServer(testDb);
      proxied = await startServer(testDb, { TRUSTED_PROXIES: '127.0.0.1/32, 10.0.0.0/8' });
      key = (await buildKey(direct, await login(direct))).key;
    });
    afterAll(async () => {
      await proxied?.close();
      await direct?.close();
      await testDb?.drop();
    });

    it('ignores X-Forwarded-For from an untrusted peer', async () => {
      expect(await loginIp(direct, key, '203.0.113.50')).toBe('127.0.0.1');
    });

    it('takes the rightmost untrusted hop behind trusted proxies', async () => {
      // client spoofs 198.51.100.1; real client 203.0.113.9; then an internal proxy 10.1.1.1
      expect(await loginIp(proxied, key, '198.51.100.1, 203.0.113.9, 10.1.1.1')).toBe('203.0.113.9');
      expect(await loginIp(proxied, key, undefined)).toBe('127.0.0.1');
    });

    it('applies Allowed CIDRs to that address', async () => {
      const k = await buildKey(direct, await login(direct), {
        description: 'behind proxy',
        allowedCidrs: '203.0.113.0/24',
      });
      const via = (xff: string) =>
        rawRequest(`${proxied.url}/api/siem/events?limit=1`, {
          headers: { authorization: `ApiKey ${k.key}`, 'x-forwarded-for': xff },
        });
      expect((await via('203.0.113.9')).status).toBe(200);
      expect((await via('203.0.113.9, 198.51.100.7')).status).toBe(401);
      // the same spoofed header straight to the node that trusts no proxy
      const spoofed = await rawRequest(`${direct.url}/api/siem/events?limit=1`, {
        headers: { authorization: `ApiKey ${k.key}`, 'x-forwarded-for': '203.0.113.9' },
      });
      expect(spoofed.status).toBe(401);
    });
  });
}
