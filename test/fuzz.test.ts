/**
 * Property-based fuzzing of every route in /openapi.json (fast-check), on every store: generated path
 * parameters, query strings, JSON and non-JSON bodies and headers (no auth, a member's or an admin's
 * session, with or without the CSRF token, good and bad SIEM keys, forwarded addresses, encodings).
 * FUZZ_RUNS requests per store (default 5,000: 10,000 a CI run). For every answer:
 * - never a 5xx;
 * - an error is exactly `{Error, Message}` (two strings);
 * - the security headers are on it;
 * - no planted secret (passwords, a SIEM key, a stored credential, a session id) is in it, nor, at the
 *   end, anywhere in the server log at trace level.
 * A failure prints the shrunk request that caused it.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, startServer, type TestServer } from './harness.js';
import { buildKey, buildUser, http, login } from './factories.js';
import { STORES, createTestDatabase, type TestDatabase } from './stores.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 5000);
const SECURITY_HEADERS: Record<string, RegExp> = {
  'cache-control': /no-store/,
  'x-content-type-options': /^nosniff$/,
  'content-security-policy': /default-src 'self'/,
  'x-frame-options': /^DENY$/,
};

interface Operation {
  method: string;
  path: string;
  params: string[];
  query: Record<string, { type?: string; enum?: unknown[] }>;
  body: Record<string, { type?: string }> | null;
}

function operations(doc: any): Operation[] {
  const ops: Operation[] = [];
  for (const [path, item] of Object.entries<any>(doc.paths)) {
    for (const [method, op] of Object.entries<any>(item)) {
      const parameters: any[] = op.parameters ?? [];
      const query: Operation['query'] = {};
      for (const p of parameters.filter((p) => p.in === 'query')) query[p.name] = p.schema ?? {};
      const bodySchema = op.requestBody?.content?.['application/json']?.schema;
      ops.push({
        method: method.toUpperCase(),
        path,
        params: parameters.filter((p) => p.in === 'path').map((p) => p.name),
        query,
        body: bodySchema?.properties ?? (bodySchema ? {} : null),
      });
    }
  }
  return ops;
}

const printable = fc.string({ unit: 'grapheme-ascii', maxLength: 40 });
const weird = fc.oneof(
  printable,
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.constantFrom(
    '',
    ' ',
    '0',
    '-1',
    '1e3',
    '0x10',
    '9'.repeat(30),
    'null',
    '%00',
    '\u0000',
    '../../etc/passwd',
    "' or 1=1 --",
    '<script>',
    '1'.repeat(150),
  ),
  fc.integer().map(String),
);
const jsonish = fc.oneof(
  { depthSize: 'small' },
  fc.jsonValue({ maxDepth: 2 }),
  weird,
  fc.integer({ min: -5, max: 70000 }),
  fc.boolean(),
  fc.constant(null),
  fc.array(weird, { maxLength: 4 }),
);

for (const kind of STORES) {
  describe(`fuzz of every route on ${kind}`, () => {
    let testDb: TestDatabase;
    let server: TestServer;
    const planted: string[] = [];
    let adminCookie = '';
    let adminCsrf = '';
    let memberCookie = '';
    let goodKey = '';
    let ops: Operation[] = [];

    beforeAll(async () => {
      testDb = await createTestDatabase(kind);
      server = await startServer(testDb, {
        LOG_LEVEL: 'trace',
        TRUSTED_PROXIES: '127.0.0.1/32',
        SIEM_RATE_LIMIT_PER_MINUTE: '100000',
        LOGIN_RATE_LIMIT_PER_MINUTE: '100000',
      });
      // A second admin for the fuzz's own sessions: whatever it does, the planted data stays.
      const fuzzAdmin = await buildUser(server, 'admin', 'fuzz-admin');
      adminCookie = fuzzAdmin.cookie;
      adminCsrf = (await http(server, 'GET', '/api/me', { cookie: adminCookie })).body.csrfToken;
      memberCookie = (await buildUser(server, 'member', 'fuzz-member')).cookie;
      const cookie = await login(server);
      goodKey = (await buildKey(server, cookie, { description: 'fuzz' })).key;
      const company = await http(server, 'POST', '/api/companies', { cookie, body: { name: 'Fuzz Co' } });
      const credential = 'Planted-Credential-7c1f9a2e';
      await http(server, 'POST', '/api/passwords', {
        cookie,
        body: { companyId: company.body.id, name: 'planted', username: 'svc', password: credential },
      });
      planted.push(ADMIN.password, 'pw-fuzz-admin-long-enough', 'pw-fuzz-member-long-enough', credential);
      planted.push(goodKey.split('_').pop()!, cookie.split('=')[1]!, adminCookie.split('=')[1]!);
      ops = operations((await http(server, 'GET', '/openapi.json')).body);
      expect(ops.length).toBeGreaterThan(30);
    });
    afterAll(async () => {
      await server?.close();
      await testDb?.drop();
    });

    it(`answers ${RUNS} generated requests without a 5xx, a leak or a broken contract`, async () => {
      const statuses = new Map<number, number>();
      const request = fc.record({
        op: fc.constantFrom(...ops),
        params: fc.array(weird, { minLength: 3, maxLength: 3 }),
        query: fc.dictionary(
          fc.oneof(printable, fc.constantFrom('cursor', 'since', 'limit', 'eventType', 'actor')),
          weird,
          { maxKeys: 3 },
        ),
        known: fc.dictionary(printable, jsonish, { maxKeys: 2 }),
        fill: fc.boolean(),
        values: fc.array(jsonish, { minLength: 8, maxLength: 8 }),
        rawBody: fc.option(
          fc.oneof(printable, fc.constantFrom('{', '[]', '{"a":', 'null', '"x"', '{"__proto__":{"x":1}}')),
          { nil: undefined },
        ),
        contentType: fc.constantFrom(
          'application/json',
          'text/plain',
          'application/x-www-form-urlencoded',
          'application/json; charset=latin1',
          undefined,
        ),
        auth: fc.constantFrom(
          'none',
          'admin',
          'admin-csrf',
          'admin-csrf',
          'admin-csrf',
          'member',
          'key',
          'key',
          'bad-key',
          'bearer',
          'garbage',
        ),
        forwarded: fc.option(fc.oneof(printable, fc.ipV4(), fc.ipV6()), { nil: undefined }),
        requestId: fc.option(printable, { nil: undefined }),
        gzip: fc.boolean(),
      });

      await fc.assert(
        fc.asyncProperty(request, async (r) => {
          let i = 0;
          const path = r.op.path.replace(/\{(\w+)\}/g, () => encodeURIComponent(r.params[i++] ?? 'x'));
          const qs = new URLSearchParams();
          for (const [name, value] of Object.entries(r.query)) qs.set(name, value);
          if (r.fill) {
            let v = 0;
            for (const name of Object.keys(r.op.query)) {
              const value = r.values[v++ % 8];
              qs.set(name, typeof value === 'string' ? value : JSON.stringify(value));
            }
          }
          const headers: Record<string, string> = {};
          // Signing the fuzz's own sessions out would turn the rest of the run into 401s.
          const auth = r.op.path === '/api/auth/logout' ? 'none' : r.auth;
          if (auth === 'admin' || auth === 'admin-csrf') headers.cookie = adminCookie;
          if (auth === 'admin-csrf') headers['x-csrf-token'] = adminCsrf;
          if (auth === 'member') headers.cookie = memberCookie;
          if (auth === 'key') headers.authorization = `ApiKey ${goodKey}`;
          if (auth === 'bad-key') headers.authorization = `ApiKey ${goodKey.slice(0, -2)}00`;
          if (auth === 'bearer') headers.authorization = `Bearer ${goodKey}`;
          if (auth === 'garbage') headers.authorization = 'ApiKey itp_siem_zz';
          if (r.forwarded) headers['x-forwarded-for'] = r.forwarded;
          if (r.requestId) headers['x-request-id'] = r.requestId;
          if (r.gzip) headers['accept-encoding'] = 'gzip';
          let body: string | undefined;
          if (r.op.method !== 'GET' && r.op.method !== 'HEAD') {
            if (r.rawBody !== undefined) body = r.rawBody;
            else if (r.op.body) {
              const object: Record<string, unknown> = { ...r.known };
              let v = 0;
              if (r.fill) for (const name of Object.keys(r.op.body)) object[name] = r.values[v++ % 8];
              body = JSON.stringify(object);
            }
            if (body !== undefined && r.contentType) headers['content-type'] = r.contentType;
          }
          const url = `${server.url}${path}${qs.size > 0 ? `?${qs}` : ''}`;
          const res = await fetch(url, { method: r.op.method, headers, body });
          const text = await res.text();
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          const where = `${r.op.method} ${url} -> ${res.status} ${text.slice(0, 200)}`;
          expect(res.status, where).toBeLessThan(500);
          for (const [name, pattern] of Object.entries(SECURITY_HEADERS)) {
            expect(res.headers.get(name) ?? '', `${name} on ${where}`).toMatch(pattern);
          }
          if (res.status >= 400) {
            const parsed = JSON.parse(text) as Record<string, unknown>;
            expect(Object.keys(parsed).sort(), where).toEqual(['Error', 'Message']);
            expect(typeof parsed.Error === 'string' && typeof parsed.Message === 'string', where).toBe(true);
          }
          // The one route that shows a stored secret, to a user allowed to see it, is the reveal.
          const reveal = r.op.method === 'GET' && r.op.path === '/api/passwords/{id}' && res.status === 200;
          for (const secret of planted)
            if (!reveal) expect(text.includes(secret), `a planted secret in ${where}`).toBe(false);
        }),
        { numRuns: RUNS, seed: Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31), endOnFailure: true },
      );
      const log = server.logs.join('\n');
      for (const secret of planted)
        expect(log.includes(secret), 'a planted secret in the server log').toBe(false);
      console.log(
        `[fuzz ${kind}] requests=${RUNS} routes=${ops.length} statuses=${JSON.stringify([...statuses].sort())}`,
      );
    }, 170_000);
  });
}
