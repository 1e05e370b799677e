/**
 * The black-box security review's findings (issue "Security hardening"), one test each, on every store.
 * Each failed on the code before its fix (see the session note).
 */
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import * as OTPAuth from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scrubDetails } from '../src/modules/audit/audit-store.js';
import { hashPassword } from '../src/modules/auth/password.js';
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

const SECURITY_HEADERS = [
  'cache-control',
  'x-content-type-options',
  'content-security-policy',
  'x-frame-options',
];

/** Sends raw bytes and returns the raw answer (for what fetch cannot send). */
function rawHttp(url: string, bytes: string): Promise<string> {
  const { port, hostname } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => socket.write(bytes));
    let text = '';
    socket.on('data', (c) => (text += c.toString()));
    socket.on('end', () => resolve(text));
    socket.on('close', () => resolve(text));
    socket.on('error', reject);
  });
}

function parseRaw(text: string) {
  const [head = '', body = ''] = text.split('\r\n\r\n', 2);
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers = Object.fromEntries(
    lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
  );
  return {
    status: Number(statusLine.split(' ')[1]),
    headers,
    body: JSON.parse(body) as Record<string, unknown>,
  };
}

for (const kind of STORES) {
  describe(`security review on ${kind}`, () => {
    let testDb: TestDatabase;
    let server: TestServer;
    let cookie: string;
    let reader: string;

    beforeAll(async () => {
      testDb = await createTestDatabase(kind);
      server = await startServer(testDb, { TRUSTED_PROXIES: '127.0.0.1/32', LOG_LEVEL: 'trace' });
      cookie = await login(server);
      reader = (await buildKey(server, cookie, { description: 'review reader' })).key;
    });
    afterAll(async () => {
      await server?.close();
      await testDb?.drop();
    });

    const events = async (type: string) => (await drain(server, reader, { eventType: type })).events;

    it('1. accepts a TOTP code once, across nodes (RFC 6238 §5.2)', async () => {
      const u = await buildUser(server, 'member', `totp-replay-${kind}`);
      const start = await http(server, 'POST', '/api/me/totp', { cookie: u.cookie });
      const totp = OTPAuth.URI.parse(start.body.otpauthUri) as OTPAuth.TOTP;
      const confirmCode = totp.generate();
      expect(
        (
          await http(server, 'POST', '/api/me/totp/confirm', {
            cookie: u.cookie,
            body: { code: confirmCode },
          })
        ).status,
      ).toBe(200);
      const signIn = (node: TestServer, code: string) =>
        http(node, 'POST', '/api/auth/login', {
          body: { username: u.username, password: u.password, totp: code },
        });
      // The code that confirmed the enrolment is spent.
      expect((await signIn(server, confirmCode)).status).toBe(401);
      // The next step's code (accepted within the window): once, then never again, on any node.
      const next = totp.generate({ timestamp: Date.now() + 30_000 });
      const other = kind === 'postgres' ? await startServer(testDb) : server;
      try {
        const statuses = [
          (await signIn(server, next)).status,
          (await signIn(other, next)).status,
          (await signIn(server, next)).status,
        ];
        expect(statuses).toEqual([200, 401, 401]);
      } finally {
        if (other !== server) await other.close();
      }
      const failures = (await events('Login.Failure')).filter((e) => e.Actor.Username === u.username);
      expect(failures.map((e) => e.Details.reason)).toContain('totp_replayed');
    });

    it('2. refuses a NUL in any text field with a 400 naming it, and still records a sign-in with one', async () => {
      const login = await http(server, 'POST', '/api/auth/login', {
        body: { username: 'a\u0000b', password: 'x' },
      });
      expect(login.status).toBe(401);
      const recorded = (await events('Login.Failure')).filter((e) => e.Actor.Username === 'a\uFFFDb');
      expect(recorded).toHaveLength(1);
      const company = await http(server, 'POST', '/api/companies', { cookie, body: { name: 'NUL Co' } });
      expect(company.status).toBe(201);
      const cases: Array<[string, string, unknown, string]> = [
        ['POST', '/api/companies', { name: 'a\u0000b' }, 'name'],
        ['POST', '/api/documents', { companyId: company.body.id, title: 't\u0000', body: 'b' }, 'title'],
        ['POST', '/api/documents', { companyId: company.body.id, title: 't', body: '\u0000' }, 'body'],
        [
          'POST',
          '/api/passwords',
          { companyId: company.body.id, name: 'n', username: 'u\u0000', password: 'p' },
          'username',
        ],
        ['POST', '/api/admin/siem/keys', { description: 'd\u0000', allowedCidrs: '' }, 'description'],
      ];
      for (const [method, route, body, field] of cases) {
        const res = await http(server, method, route, { cookie, body });
        expect(res.status, `${route} ${field}`).toBe(400);
        expect(res.body.Error).toBe('invalid_request');
        expect(res.body.Message).toMatch(new RegExp(`^${field}: contains a NUL`));
      }
      const viewer = await http(server, 'GET', '/api/admin/audit/events?actor=a%00b', { cookie });
      expect(viewer.status).toBe(400);
      expect(viewer.body.Message).toMatch(/^actor: contains a NUL/);
    });

    it('3. throttles wrong secrets per key (429 + Retry-After) while the real key keeps working', async () => {
      const k = await buildKey(server, cookie, { description: 'guessed' });
      const wrong = (i: number) => k.key.slice(0, -4) + i.toString(16).padStart(4, '0');
      const statuses: number[] = [];
      let retryAfter: string | null = null;
      for (let i = 0; i < 30; i++) {
        const res = await poll(server, wrong(i), {}, { 'x-forwarded-for': `198.18.0.${i}` });
        statuses.push(res.status);
        if (res.status === 429) retryAfter = res.headers.get('retry-after');
        if (i % 10 === 5)
          expect((await poll(server, k.key)).status, 'the real key is never locked out').toBe(200);
      }
      expect(statuses.slice(0, 10).every((s) => s === 401)).toBe(true);
      expect(statuses.slice(10).every((s) => s === 429)).toBe(true);
      expect(Number(retryAfter)).toBeGreaterThan(0);
    });

    it('4. bounds refusal records and rate-limit rows for a flood from many addresses, and purges old windows', async () => {
      const k = await buildKey(server, cookie, { description: 'flood' });
      const bad = k.key.slice(0, -1) + (k.key.endsWith('0') ? '1' : '0');
      // Summaries count per wall-clock minute: the flood and the probes below stay inside one.
      await withinOneMinuteWindow(30_000);
      for (let i = 0; i < 120; i++) {
        const res = await poll(
          server,
          bad,
          {},
          { 'x-forwarded-for': `203.0.113.${i % 250}`, 'user-agent': `f${i}` },
        );
        expect([401, 429]).toContain(res.status);
      }
      const denied = (await events('Access.Denied')).filter((e) => e.Target.Id === k.id);
      // The first in full, then a summary at the 10th and the 100th.
      expect(denied).toHaveLength(3);
      expect(denied.map((e) => e.Details.suppressed ?? 0)).toEqual([0, 8, 89]);
      const tenantId = await server.ctx.tenants.defaultTenantId(Date.now());
      const rows = await server.database.db
        .selectFrom('rate_limits')
        .select('bucket')
        .where('tenant_id', '=', tenantId)
        .execute();
      expect(rows.filter((r) => r.bucket.includes(k.id))).toHaveLength(1);

      // A member probing an admin route 25 times: two records (the first, and a summary at the 10th).
      const member = await buildUser(server, 'member', `prober-${kind}`);
      for (let i = 0; i < 25; i++) {
        expect((await http(server, 'GET', '/api/admin/users', { cookie: member.cookie })).status).toBe(403);
      }
      const probes = (await events('Access.Denied')).filter((e) => e.Actor.Username === member.username);
      expect(probes).toHaveLength(2);

      // Expired windows are deleted (a fresh node purges on its first count).
      await server.database.db
        .insertInto('rate_limits')
        .values({
          tenant_id: tenantId,
          bucket: 'ip-denied:192.0.2.1',
          window_start: Date.now() - 3_600_000,
          count: 1,
        })
        .execute();
      const fresh = await startServer(testDb);
      try {
        await poll(fresh, bad);
        const left = await fresh.database.db
          .selectFrom('rate_limits')
          .select('bucket')
          .where('tenant_id', '=', tenantId)
          .where('bucket', '=', 'ip-denied:192.0.2.1')
          .execute();
        expect(left).toHaveLength(0);
      } finally {
        await fresh.close();
      }
    });

    it('5. treats IPv4-mapped IPv6 entries as the IPv4 ranges they carry', async () => {
      const blocked = await http(server, 'PUT', '/api/admin/settings/ip-access', {
        cookie,
        body: { allow: [], block: ['::ffff:198.51.100.7/128', '198.51.100.8'] },
      });
      expect(blocked.status).toBe(200);
      expect(blocked.body.block).toEqual(['198.51.100.7/32', '198.51.100.8/32']);
      try {
        const res = await http(server, 'GET', '/api/me', {
          cookie,
          headers: { 'x-forwarded-for': '198.51.100.7' },
        });
        expect(res.status).toBe(403);
        // Another address's first refusal, its path decoding to a NUL: still recorded (as U+FFFD), both stores.
        const nul = await rawRequest(`${server.url}/api/%00probe`, {
          headers: { 'x-forwarded-for': '198.51.100.8' },
        });
        expect(nul.status).toBe(403);
        const names = (await events('Access.Denied')).map((e) => String(e.Target.Name));
        expect(names).toContain('GET /api/\uFFFDprobe');
      } finally {
        await http(server, 'PUT', '/api/admin/settings/ip-access', {
          cookie,
          body: { allow: [], block: [] },
        });
      }
      const k = await buildKey(server, cookie, {
        description: 'mapped',
        allowedCidrs: '::ffff:198.51.100.0/120',
      });
      expect((await poll(server, k.key, {}, { 'x-forwarded-for': '198.51.100.9' })).status).toBe(200);
      const wide = await http(server, 'POST', '/api/admin/siem/keys', {
        cookie,
        body: { description: 'too wide', allowedCidrs: '::ffff:0:0/95' },
      });
      expect(wide.status).toBe(400);
      expect(wide.body.Error).toBe('invalid_cidr');
      expect(wide.body.Message).toMatch(/IPv4-mapped/);
    });

    it('6. gives framework errors (414, 431, a bad request line, a bad URL) the contract and the headers', async () => {
      const long = await http(server, 'GET', `/api/companies/${'1'.repeat(200)}`, { cookie });
      expect(long.status).toBe(414);
      expect(long.body).toEqual({ Error: 'uri_too_long', Message: expect.any(String) });
      expect(long.text).not.toContain('1111111111');
      for (const h of SECURITY_HEADERS) expect(long.headers.get(h), h).toBeTruthy();
      const badUrl = await rawRequest(`${server.url}/api/companies/%E0%A4%A`);
      expect(badUrl.status).toBe(400);
      expect(Object.keys(badUrl.body).sort()).toEqual(['Error', 'Message']);
      for (const h of SECURITY_HEADERS) expect(badUrl.headers[h], h).toBeTruthy();

      const big = parseRaw(
        await rawHttp(server.url, `GET /api/me HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`),
      );
      expect(big.status).toBe(431);
      expect(big.body).toEqual({ Error: 'headers_too_large', Message: expect.any(String) });
      for (const h of SECURITY_HEADERS) expect(big.headers[h], h).toBeTruthy();
      const garbage = parseRaw(await rawHttp(server.url, 'NOT HTTP AT ALL\r\n\r\n'));
      expect(garbage.status).toBe(400);
      expect(garbage.body).toEqual({ Error: 'invalid_request', Message: expect.any(String) });
      for (const h of SECURITY_HEADERS) expect(garbage.headers[h], h).toBeTruthy();
    });

    it('7. records no access for a HEAD request (no body, no event)', async () => {
      const company = await http(server, 'POST', '/api/companies', { cookie, body: { name: 'HEAD Co' } });
      const cred = await http(server, 'POST', '/api/passwords', {
        cookie,
        body: { companyId: company.body.id, name: 'head-cred', username: 'u', password: 'p-head' },
      });
      const reveals = async () =>
        (await events('Access.Object')).filter(
          (e) => e.Target.Type === 'Password' && e.Target.Id === String(cred.body.id),
        ).length;
      const before = await reveals();
      const head = await fetch(`${server.url}/api/passwords/${cred.body.id}`, {
        method: 'HEAD',
        headers: { cookie },
      });
      expect(head.status).not.toBe(200);
      const docHead = await fetch(`${server.url}/api/companies/${company.body.id}`, {
        method: 'HEAD',
        headers: { cookie },
      });
      expect(docHead.status).not.toBe(200);
      expect(await reveals()).toBe(before);
    });

    it('8. redacts a key pasted anywhere into a URL from the log', async () => {
      const k = await buildKey(server, cookie, { description: 'pasted' });
      const secret = k.key.split('_').pop()!;
      await http(server, 'GET', `/api/siem/${k.key}`);
      await http(server, 'GET', `/api/siem/events?${k.key}=1`, {
        headers: { authorization: `ApiKey ${reader}` },
      });
      await http(server, 'GET', `/api/siem/events?x=${k.key}`, {
        headers: { authorization: `ApiKey ${reader}` },
      });
      // One bad escape does not leave the rest of the path encoded (and so unredacted).
      await http(server, 'GET', `/api/siem/%zz/${encodeURIComponent(k.key).replace(/i/g, '%69')}`);
      const log = server.logs.join('\n');
      expect(log).toContain('itp_siem_[redacted]');
      expect(log).not.toContain(secret.slice(0, 16));
      expect(log).not.toContain(secret.slice(-16));
    });

    it('9. creates DATA_DIR 0700 and the SQLite database 0600, whatever the umask', async () => {
      const parent = await fs.mkdtemp(path.join(os.tmpdir(), 'itp-mode-'));
      const dataDir = path.join(parent, 'nested', 'data');
      const previous = process.umask(0o022);
      // On PostgreSQL the directory holds only data.key: a node without DATA_KEY generates one there
      // (and is then refused, its key differing from the database's), on SQLite also the database.
      const node = await startServer({ ...testDb, env: { ...testDb.env, DATA_DIR: dataDir } }).catch(
        (err: unknown) => err as Error,
      );
      process.umask(previous);
      try {
        if (kind === 'postgres') expect(String(node)).toMatch(/DATA_KEY does not match/);
        else if (node instanceof Error) throw node;
        else await node.close();
        expect((await fs.stat(dataDir)).mode & 0o777).toBe(0o700);
        expect((await fs.stat(path.join(dataDir, 'data.key'))).mode & 0o777).toBe(0o600);
        if (kind === 'sqlite') {
          expect((await fs.stat(path.join(dataDir, 'itportal.db'))).mode & 0o777).toBe(0o600);
        }
      } finally {
        await fs.rm(parent, { recursive: true, force: true });
      }
    });

    it('10. answers races with 409, and keeps at least one admin under concurrent demotions', async () => {
      const create = () =>
        http(server, 'POST', '/api/admin/users', {
          cookie,
          body: { username: `racer-${kind}`, password: 'racer-password-long', role: 'member' },
        });
      const statuses = (await Promise.all([create(), create(), create()])).map((r) => r.status).sort();
      expect(statuses).toEqual([201, 409, 409]);
      expect(server.logs.some((l) => /"driverCode":"(23505|SQLITE_CONSTRAINT_UNIQUE)"/.test(l))).toBe(true);

      // Make a second admin, so that exactly two exist, then demote both at once.
      const second = await buildUser(server, 'admin', `second-admin-${kind}`);
      const users = (await http(server, 'GET', '/api/admin/users', { cookie })).body as Array<{
        id: number;
        username: string;
        role: string;
      }>;
      const admins = users.filter((u) => u.role === 'admin');
      expect(admins).toHaveLength(2);
      // Each demotes the other, at once: one may win, never both.
      const demotions = await Promise.all(
        admins.map((a) =>
          http(server, 'PATCH', `/api/admin/users/${a.id}`, {
            cookie: a.username === second.username ? cookie : second.cookie,
            body: { role: 'member' },
          }),
        ),
      );
      const codes = demotions.map((d) => d.status).sort();
      expect(codes[0]).toBe(200);
      expect([400, 403]).toContain(codes[1]);
      const tenantId = await server.ctx.tenants.defaultTenantId(Date.now());
      const left = await server.database.db
        .selectFrom('users')
        .select('id')
        .where('tenant_id', '=', tenantId)
        .where('role', '=', 'admin')
        .execute();
      expect(left).toHaveLength(1);

      const host = `race-${kind}.example.test`;
      const tenants = await Promise.allSettled([
        server.ctx.tenants.createTenant('Race A', [host], Date.now()),
        server.ctx.tenants.createTenant('Race B', [host], Date.now()),
      ]);
      expect(tenants.filter((t) => t.status === 'fulfilled')).toHaveLength(1);
      const refused = tenants.find((t) => t.status === 'rejected') as PromiseRejectedResult;
      expect(refused.reason).toMatchObject({ status: 409 });
    });

    it("11. random request ids (or a trusted proxy's), secrets scrubbed by name, scrypt at OWASP cost", async () => {
      const a = await http(server, 'GET', '/healthz');
      const b = await http(server, 'GET', '/healthz');
      expect(a.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
      expect(a.headers.get('x-request-id')).not.toBe(b.headers.get('x-request-id'));
      const traced = await http(server, 'GET', '/healthz', { headers: { 'x-request-id': 'lb-trace-42' } });
      expect(traced.headers.get('x-request-id')).toBe('lb-trace-42');
      expect(
        scrubDetails({
          currentPassword: 'a',
          secret_hash: 'b',
          totp_secret: 'c',
          csrf_token: 'd',
          sessionToken: 'e',
          'api-key': 'f',
          nested: { newPassword: 'g', keep: 2 },
          keep: 1,
        }),
      ).toEqual({ nested: { keep: 2 }, keep: 1 });
      expect(await hashPassword('x')).toMatch(/^scrypt\$32768\$8\$3\$/);
    });
  });
}
