/** Fixes from the security review, each held by a test, on every store. */
import * as OTPAuth from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildKey,
  buildUser,
  drain,
  http,
  login,
  poll,
  rawRequest,
  withinOneMinuteWindow,
} from './factories.js';
import { startServer, type TestServer } from './harness.js';
import { STORES, createTestDatabase, type TestDatabase } from './stores.js';

for (const kind of STORES) {
  describe(`hardening on ${kind}`, () => {
    let testDb: TestDatabase;
    let server: TestServer;
    let cookie: string;
    let reader: string;

    beforeAll(async () => {
      testDb = await createTestDatabase(kind);
      server = await startServer(testDb, { TRUSTED_PROXIES: '127.0.0.1/32' });
      cookie = await login(server);
      reader = (await buildKey(server, cookie, { description: 'hardening reader' })).key;
    });
    afterAll(async () => {
      await server?.close();
      await testDb?.drop();
    });

    it('counts parallel failed logins atomically, so a burst cannot dodge the lockout', async () => {
      await http(server, 'PUT', '/api/admin/settings/password-policy', {
        cookie,
        body: { minLength: 12, lockoutThreshold: 3, lockoutMinutes: 10 },
      });
      const victim = await buildUser(server, 'member', 'burst-victim');
      const burst = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          http(server, 'POST', '/api/auth/login', {
            body: { username: 'burst-victim', password: `guess-${i}` },
          }),
        ),
      );
      expect(burst.every((r) => r.status === 401)).toBe(true);
      const right = await http(server, 'POST', '/api/auth/login', {
        body: { username: 'burst-victim', password: victim.password },
      });
      expect(right.status).toBe(401);
      await http(server, 'PUT', '/api/admin/settings/password-policy', {
        cookie,
        body: { minLength: 12, lockoutThreshold: 5, lockoutMinutes: 15 },
      });
    });

    it('applies the IP lists to the route a request reaches, however its path is encoded', async () => {
      expect(
        (
          await http(server, 'PUT', '/api/admin/settings/ip-access', {
            cookie,
            body: { allow: [], block: ['10.66.0.0/16'] },
          })
        ).status,
      ).toBe(200);
      try {
        for (const path of ['/api/auth/login', '/%61pi/auth/login', '/api/auth/%6cogin']) {
          const res = await rawRequest(`${server.url}${path}`, {
            method: 'POST',
            headers: { 'x-forwarded-for': '10.66.1.1', 'content-type': 'application/json' },
            body: JSON.stringify({ username: 'admin', password: 'x' }),
          });
          expect(res.status, path).toBe(403);
        }
        const feed = await rawRequest(`${server.url}/%61pi/siem/events`, {
          headers: { 'x-forwarded-for': '10.66.1.1', authorization: `ApiKey ${reader}` },
        });
        expect(feed.status).toBe(403);
        // the probes stay open
        expect(
          (await rawRequest(`${server.url}/healthz`, { headers: { 'x-forwarded-for': '10.66.1.1' } })).status,
        ).toBe(200);
      } finally {
        await http(server, 'PUT', '/api/admin/settings/ip-access', {
          cookie,
          body: { allow: [], block: [] },
        });
      }
    });

    it('does not tell the cause of a refused poll in the public metrics', async () => {
      const k = await buildKey(server, cookie, { description: 'metrics probe' });
      await poll(
        server,
        k.key.replace(/.$/, (c) => (c === '0' ? '1' : '0')),
      );
      await poll(server, `itp_siem_0000000000000000_${'0'.repeat(64)}`);
      const metrics = (await http(server, 'GET', '/metrics')).text;
      const reasons = [...metrics.matchAll(/itportal_siem_refusals_total\{reason="([^"]+)"\}/g)].map(
        (m) => m[1],
      );
      expect(reasons.length).toBeGreaterThan(0);
      expect(new Set(reasons)).toEqual(new Set(['unauthorized']));
    });

    it('records each refusal reason of a key, so a bad-secret flood cannot hide a valid secret from a disallowed address', async () => {
      const k = await buildKey(server, cookie, { description: 'flooded', allowedCidrs: '192.0.2.0/24' });
      const bad = k.key.replace(/.$/, (c) => (c === '0' ? '1' : '0'));
      for (let i = 0; i < 10; i++) expect((await poll(server, bad)).status).toBe(401);
      expect((await poll(server, k.key)).status).toBe(401); // right secret, wrong address
      const denied = (await drain(server, reader, { eventType: 'Access.Denied' })).events.filter(
        (e) => e.Target.Id === k.id,
      );
      // Per reason: the ten bad secrets give their first record and a summary at the 10th.
      expect([...new Set(denied.map((e) => e.Details.reason))].sort()).toEqual([
        'address_not_allowed',
        'bad_secret',
      ]);
      expect(denied.filter((e) => e.Details.reason === 'address_not_allowed')).toHaveLength(1);
    });

    it('ends sessions when an admin resets a password, and other sessions on a self-service change', async () => {
      const u = await buildUser(server, 'member', 'session-reset');
      const second = await login(server, 'session-reset', u.password);
      const users = (await http(server, 'GET', '/api/admin/users', { cookie })).body as Array<{
        id: number;
        username: string;
      }>;
      const id = users.find((x) => x.username === 'session-reset')!.id;
      const changed = await http(server, 'POST', '/api/me/password', {
        cookie: u.cookie,
        body: { currentPassword: u.password, newPassword: 'session-reset-new-password' },
      });
      expect(changed.status).toBe(204);
      expect((await http(server, 'GET', '/api/me', { cookie: u.cookie })).status).toBe(200);
      expect((await http(server, 'GET', '/api/me', { cookie: second })).status).toBe(401);
      expect(
        (
          await http(server, 'PATCH', `/api/admin/users/${id}`, {
            cookie,
            body: { password: 'admin-chosen-password-1' },
          })
        ).status,
      ).toBe(200);
      expect((await http(server, 'GET', '/api/me', { cookie: u.cookie })).status).toBe(401);
    });

    it('refuses to replace an enrolled TOTP with a session alone', async () => {
      const u = await buildUser(server, 'member', 'totp-once');
      const start = await http(server, 'POST', '/api/me/totp', { cookie: u.cookie });
      const totp = OTPAuth.URI.parse(start.body.otpauthUri) as OTPAuth.TOTP;
      expect(
        (
          await http(server, 'POST', '/api/me/totp/confirm', {
            cookie: u.cookie,
            body: { code: totp.generate() },
          })
        ).status,
      ).toBe(200);
      const again = await http(server, 'POST', '/api/me/totp', { cookie: u.cookie });
      expect(again.status).toBe(409);
      expect(again.body.Message).toMatch(/already enrolled/);
    });

    it('limits sign-in attempts per address before any password check (429 + Retry-After)', async () => {
      const limited = await startServer(testDb, {
        LOGIN_RATE_LIMIT_PER_MINUTE: '3',
        TRUSTED_PROXIES: '127.0.0.1/32',
      });
      try {
        const from = { 'x-forwarded-for': '198.51.100.99', 'content-type': 'application/json' };
        // The limit counts in fixed wall-clock minutes: five attempts that straddle a minute's end can
        // split 3 + 2 and never meet it (seen once in CI). Start them well inside one window.
        await withinOneMinuteWindow();
        const statuses: number[] = [];
        let retryAfter: string | string[] | undefined;
        for (let i = 0; i < 5; i++) {
          const res = await rawRequest(`${limited.url}/api/auth/login`, {
            method: 'POST',
            headers: from,
            body: JSON.stringify({ username: 'nobody-here', password: 'x' }),
          });
          statuses.push(res.status);
          if (res.status === 429) retryAfter = res.headers['retry-after'];
        }
        expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(1);
        expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(3);
        expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
      } finally {
        await limited.close();
      }
    });
  });
}
