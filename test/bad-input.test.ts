/**
 * Bad input over real HTTP on every store: whatever a client sends, the answer is a JSON
 * `{Error, Message}` 4xx that names what to fix, never a 500, a stack trace or a path on the server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildKey, http, login, poll, type HttpResult } from './factories.js';
import { startServer, type TestServer } from './harness.js';
import { STORES, createTestDatabase, type TestDatabase } from './stores.js';

const JSON_CT = { 'content-type': 'application/json' };

/** Lines a stack trace or a leaked server path would put in a body. */
function expectNoInternals(res: HttpResult, context = ''): void {
  expect(res.text, context).not.toMatch(/^\s*at\s/m);
  expect(res.text, context).not.toMatch(/\bat\s+\S+\s+\(\S+:\d+:\d+\)/);
  expect(res.text, context).not.toMatch(/\(?(?:file:\/\/)?\/\S+\.(?:[cm]?js|ts):\d+/);
  expect(res.text, context).not.toContain('node_modules');
}

/** A refusal as every route must give it: status, JSON, exactly {Error, Message}, Message naming `mention`. */
function expectRefusal(
  res: HttpResult,
  status: number,
  expected: { code?: string; mention?: string | RegExp } = {},
): void {
  const context = `${res.status} ${res.text}`;
  expect(res.status, context).toBe(status);
  expect(res.headers.get('content-type'), context).toMatch(/^application\/json/);
  expect(Object.keys(res.body ?? {}).sort(), context).toEqual(['Error', 'Message']);
  expect(typeof res.body.Error).toBe('string');
  expect(typeof res.body.Message).toBe('string');
  if (expected.code) expect(res.body.Error, context).toBe(expected.code);
  if (typeof expected.mention === 'string') expect(res.body.Message, context).toContain(expected.mention);
  else if (expected.mention) expect(res.body.Message, context).toMatch(expected.mention);
  expectNoInternals(res, context);
}

/** mulberry32: a small seeded PRNG, so a failing fuzz case replays with the same seed. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FUZZ_SEED = 20260425;

function fuzzer(random: () => number) {
  const int = (n: number) => Math.floor(random() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  const NAMES = [
    'username',
    'password',
    'totp',
    'description',
    'allowedCidrs',
    'bogus',
    '',
    'constructor',
    'toString',
    'a.b',
    'Événement',
    '$where',
  ];
  const STRINGS = [
    '',
    ' ',
    'admin',
    '10.0.0.0/33',
    'not-an-ip',
    '2001:db8::/32',
    '123456',
    '0',
    '-1',
    'null',
    'true',
    "' or 1=1 --",
    '<script>alert(1)</script>',
    '../../etc/passwd',
    '%00',
    '\u0000',
    '\ud800',
    '😀'.repeat(50),
    'x'.repeat(300),
    'Login.*',
    'Login.Failure,',
    '2026-02-30',
    '9999-99-99T99:99:99Z',
  ];
  function value(depth: number): unknown {
    switch (int(depth > 2 ? 5 : 8)) {
      case 0:
        return pick(STRINGS);
      case 1:
        return random() < 0.5 ? int(1e6) - 5e5 : pick([0, -0, 1e308, -1e-308, 2 ** 53 + 1]);
      case 2:
        return random() < 0.5;
      case 3:
        return null;
      case 4:
        return Array.from({ length: int(12) }, () => String.fromCharCode(32 + int(95))).join('');
      case 5:
        return Array.from({ length: int(4) }, () => value(depth + 1));
      default: {
        const o: Record<string, unknown> = {};
        for (let i = int(5); i > 0; i--) o[pick(NAMES)] = value(depth + 1);
        return o;
      }
    }
  }
  function body(): { rawBody: string; headers: Record<string, string> } {
    const contentType = pick([
      'application/json',
      'application/json',
      'application/json',
      'application/json; charset=utf-8',
      'text/plain',
      'application/x-www-form-urlencoded',
      'application/xml',
      'multipart/form-data; boundary=x',
      'application/json; charset=latin1',
    ]);
    let rawBody: string;
    const shape = int(4);
    if (shape === 0) rawBody = JSON.stringify(value(0));
    else if (shape === 1) {
      // A plausible object with one field of the wrong shape.
      rawBody = JSON.stringify({ username: value(2), password: value(2), description: value(2) });
    } else if (shape === 2) {
      // Valid JSON, cut short or with a byte flipped.
      const text = JSON.stringify({ [pick(NAMES)]: value(1), [pick(NAMES)]: value(1) });
      const at = int(text.length);
      rawBody =
        random() < 0.5
          ? text.slice(0, at)
          : text.slice(0, at) + pick(['{', '"', '\\', ',', ']']) + text.slice(at + 1);
    } else {
      rawBody = Array.from({ length: int(64) }, () => String.fromCharCode(int(0x3000))).join('');
    }
    return { rawBody, headers: { 'content-type': contentType } };
  }
  function query(params: readonly string[]): string {
    const parts: string[] = [];
    for (let i = int(4); i >= 0; i--) {
      const name = random() < 0.85 ? pick(params) : pick(NAMES);
      const raw = random() < 0.7 ? String(value(3)) : pick(['%', '%zz', '%E0%A4%A', '%00', '+', '&&', '==']);
      const encoded = random() < 0.8 ? encodeURIComponent(raw) : raw.replace(/[#\s]/g, '');
      parts.push(`${encodeURIComponent(name)}=${encoded}`);
    }
    return parts.join('&');
  }
  return { int, pick, body, query };
}

for (const kind of STORES) {
  describe(`bad input on ${kind}`, () => {
    let testDb: TestDatabase;
    let server: TestServer;
    let cookie: string;
    let key: string;

    beforeAll(async () => {
      testDb = await createTestDatabase(kind);
      // A generous rate limit: the fuzz loop polls the feed many times within a minute.
      server = await startServer(testDb, { SIEM_RATE_LIMIT_PER_MINUTE: '100000' });
      cookie = await login(server);
      key = (await buildKey(server, cookie, { description: 'bad input' })).key;
    });
    afterAll(async () => {
      await server?.close();
      await testDb?.drop();
    });

    describe('malformed JSON', () => {
      it.each(['{"username":', '{x', "{'username':'admin'}", '{"username":"a",}', '[1,2', 'NaN', '\u0000'])(
        'POST /api/auth/login with %j is a 400 invalid_json',
        async (rawBody) => {
          const res = await http(server, 'POST', '/api/auth/login', { rawBody, headers: JSON_CT });
          expectRefusal(res, 400, { code: 'invalid_json', mention: 'body' });
        },
      );

      it('POST /api/admin/siem/keys with a malformed body is a 400 invalid_json', async () => {
        for (const rawBody of ['{"description": "x"', '{description: "x"}', '{"description":"x"}}']) {
          const res = await http(server, 'POST', '/api/admin/siem/keys', {
            cookie,
            rawBody,
            headers: JSON_CT,
          });
          expectRefusal(res, 400, { code: 'invalid_json', mention: 'body' });
        }
      });

      it('an empty body sent as application/json is a 400 invalid_json', async () => {
        const res = await http(server, 'POST', '/api/admin/siem/keys', {
          cookie,
          rawBody: '',
          headers: JSON_CT,
        });
        expectRefusal(res, 400, { code: 'invalid_json', mention: 'body' });
      });

      it('a body that poisons the prototype is refused with a 400, and issues nothing', async () => {
        const before = (await http(server, 'GET', '/api/admin/siem/keys', { cookie })).body.length;
        for (const rawBody of [
          '{"description":"x","__proto__":{"isAdmin":true}}',
          '{"description":"x","constructor":{"prototype":{"isAdmin":true}}}',
        ]) {
          const res = await http(server, 'POST', '/api/admin/siem/keys', {
            cookie,
            rawBody,
            headers: JSON_CT,
          });
          expectRefusal(res, 400);
        }
        expect((await http(server, 'GET', '/api/admin/siem/keys', { cookie })).body.length).toBe(before);
      });
    });

    describe('oversize bodies', () => {
      it('a body over 64 KiB is a 400 body_too_large, on login and on an admin route', async () => {
        const big = 'a'.repeat(64 * 1024 + 1);
        const a = await http(server, 'POST', '/api/auth/login', {
          body: { username: big, password: 'x' },
        });
        expectRefusal(a, 400, { code: 'body_too_large', mention: '64 KiB' });
        const b = await http(server, 'POST', '/api/admin/siem/keys', { cookie, body: { description: big } });
        expectRefusal(b, 400, { code: 'body_too_large', mention: '64 KiB' });
        // Malformed as well as oversize: the size is what is refused, before any parsing.
        const c = await http(server, 'POST', '/api/auth/login', { rawBody: `{${big}`, headers: JSON_CT });
        expectRefusal(c, 400, { code: 'body_too_large' });
      });

      it('a body just under the limit is parsed and validated normally', async () => {
        const res = await http(server, 'POST', '/api/admin/siem/keys', {
          cookie,
          body: { description: 'x', padding: 'p'.repeat(60 * 1024) },
        });
        expectRefusal(res, 400, { code: 'invalid_request', mention: 'padding' });
      });
    });

    describe('unknown keys, wrong types, missing fields', () => {
      it('an unknown key in a JSON body is a 400 naming the key', async () => {
        const a = await http(server, 'POST', '/api/auth/login', {
          body: { username: 'admin', password: 'x', bogus: 1 },
        });
        expectRefusal(a, 400, { code: 'invalid_request', mention: 'bogus' });
        const b = await http(server, 'POST', '/api/admin/siem/keys', {
          cookie,
          body: { description: 'x', allowedCidrs: '', bogus: true },
        });
        expectRefusal(b, 400, { code: 'invalid_request', mention: 'bogus' });
        // The refused request changed nothing.
        const keys = await http(server, 'GET', '/api/admin/siem/keys', { cookie });
        expect(keys.body.every((k: { description: string }) => k.description !== 'x')).toBe(true);
      });

      it.each([
        ['username', { password: 'x' }],
        ['password', { username: 'admin' }],
        ['username', {}],
      ])('POST /api/auth/login without %s is a 400 naming it', async (field, body) => {
        const res = await http(server, 'POST', '/api/auth/login', { body });
        expectRefusal(res, 400, { code: 'invalid_request', mention: field });
      });

      it('POST /api/admin/siem/keys without description is a 400 naming it', async () => {
        const res = await http(server, 'POST', '/api/admin/siem/keys', {
          cookie,
          body: { allowedCidrs: '' },
        });
        expectRefusal(res, 400, { code: 'invalid_request', mention: 'description' });
      });

      it.each([
        ['username', { username: {}, password: 'x' }],
        ['username', { username: ['a', 'b'], password: 'x' }],
        ['password', { username: 'admin', password: { $ne: '' } }],
        ['totp', { username: 'admin', password: 'x', totp: 'abcdef' }],
        ['totp', { username: 'admin', password: 'x', totp: '1234567' }],
        ['username', { username: '', password: 'x' }],
      ])('POST /api/auth/login with a bad %s is a 400 naming it', async (field, body) => {
        const res = await http(server, 'POST', '/api/auth/login', { body });
        expectRefusal(res, 400, { code: 'invalid_request', mention: field });
      });

      it.each([
        ['description', { description: { text: 'x' } }],
        ['description', { description: ['a', 'b'] }],
        ['description', { description: '' }],
        ['allowedCidrs', { description: 'x', allowedCidrs: { a: 1 } }],
        ['allowedCidrs', { description: 'x', allowedCidrs: [{ cidr: '10.0.0.0/8' }] }],
      ])('POST /api/admin/siem/keys with a bad %s is a 400 naming it', async (field, body) => {
        const res = await http(server, 'POST', '/api/admin/siem/keys', { cookie, body });
        expectRefusal(res, 400, { mention: field });
      });

      it.each([
        ['username', 12345],
        ['username', true],
        ['username', ['admin']],
        ['password', null],
        ['password', 42],
      ])('POST /api/auth/login with %s = %j is a 400 "must be string", not coerced', async (field, value) => {
        // A JSON number, boolean, null or one-element array is the wrong type for a string field: it
        // must be refused, not coerced into a string and tried as a credential.
        const body = { username: 'admin', password: 'x', [field]: value };
        const res = await http(server, 'POST', '/api/auth/login', { body });
        expectRefusal(res, 400, { code: 'invalid_request', mention: `${field}: must be string` });
      });

      it('POST /api/admin/siem/keys with a numeric description is a 400, and issues no key', async () => {
        const before = (await http(server, 'GET', '/api/admin/siem/keys', { cookie })).body.length;
        const res = await http(server, 'POST', '/api/admin/siem/keys', {
          cookie,
          body: { description: 12345 },
        });
        expectRefusal(res, 400, { code: 'invalid_request', mention: 'description' });
        expect((await http(server, 'GET', '/api/admin/siem/keys', { cookie })).body.length).toBe(before);
      });
    });

    describe('content types', () => {
      it.each([
        ['application/x-www-form-urlencoded', 'username=admin&password=x'],
        ['application/xml', '<login><username>admin</username></login>'],
        ['multipart/form-data; boundary=zzz', '--zzz\r\n\r\nx\r\n--zzz--'],
      ])('a %s body is a 400 unsupported_media_type naming Content-Type', async (contentType, rawBody) => {
        for (const path of ['/api/auth/login', '/api/admin/siem/keys']) {
          const res = await http(server, 'POST', path, {
            cookie,
            rawBody,
            headers: { 'content-type': contentType },
          });
          expectRefusal(res, 400, { code: 'unsupported_media_type', mention: 'Content-Type' });
        }
      });

      it('a text/plain body (even one that holds JSON) is a 400, never parsed as the object', async () => {
        const res = await http(server, 'POST', '/api/auth/login', {
          rawBody: JSON.stringify({ username: 'admin', password: 'admin-password-for-tests' }),
          headers: { 'content-type': 'text/plain' },
        });
        expectRefusal(res, 400);
        expect(res.headers.get('set-cookie')).toBeNull();
      });
    });

    describe('routes and ids', () => {
      it.each([
        ['GET', '/api/nope'],
        ['GET', '/nope'],
        ['POST', '/api/siem/events'],
        ['PUT', '/api/auth/login'],
        ['GET', '/api/admin/siem/keys/0123456789abcdef/nope'],
        ['GET', `/api/${'x'.repeat(3000)}`],
      ])('%s %s is a JSON 404', async (method, path) => {
        const res = await http(server, method, path, { cookie });
        expectRefusal(res, 404, { code: 'not_found' });
        expect(res.body.Message.length).toBeLessThan(400);
      });

      it.each([
        'xyz',
        '0123456789ABCDEF',
        '0123456789abcde',
        '0123456789abcdef0',
        '..%2F..%2Fetc',
        "1' or '1'='1",
      ])('DELETE /api/admin/siem/keys/%s is a 400 naming id', async (id) => {
        const res = await http(server, 'DELETE', `/api/admin/siem/keys/${id}`, { cookie });
        expectRefusal(res, 400, { code: 'invalid_request', mention: 'id' });
      });

      it('a bad :id on the polls route is a 400 naming id', async () => {
        const res = await http(server, 'GET', '/api/admin/siem/keys/not-a-key/polls', { cookie });
        expectRefusal(res, 400, { code: 'invalid_request', mention: 'id' });
      });

      it('an unknown but well-formed key id is a 404, on revoke and on the poll history', async () => {
        const del = await http(server, 'DELETE', '/api/admin/siem/keys/0123456789abcdef', { cookie });
        expectRefusal(del, 404, { code: 'not_found', mention: '0123456789abcdef' });
        const polls = await http(server, 'GET', '/api/admin/siem/keys/0123456789abcdef/polls', { cookie });
        expectRefusal(polls, 404, { code: 'not_found', mention: '0123456789abcdef' });
      });
    });

    describe('SIEM key fields', () => {
      it('a description over 200 characters is a 400 naming description; 200 is accepted', async () => {
        const long = await http(server, 'POST', '/api/admin/siem/keys', {
          cookie,
          body: { description: 'd'.repeat(201) },
        });
        expectRefusal(long, 400, { code: 'invalid_request', mention: 'description' });
        const blank = await http(server, 'POST', '/api/admin/siem/keys', {
          cookie,
          body: { description: '   ' },
        });
        expectRefusal(blank, 400, { code: 'invalid_request', mention: 'description' });
        const max = await http(server, 'POST', '/api/admin/siem/keys', {
          cookie,
          body: { description: 'd'.repeat(200) },
        });
        expect(max.status).toBe(201);
      });

      it.each([
        ['10.0.0.0/24, 10.0.0.0/33', '10.0.0.0/33'],
        ['not-an-ip', 'not-an-ip'],
        ['192.168.1.0/24,,256.1.1.1', '256.1.1.1'],
        ['10.0.0.0/-1', '10.0.0.0/-1'],
        ['10.0.0.0/', '10.0.0.0/'],
        ['2001:db8::/129', '2001:db8::/129'],
        ['2001:db8:::1/64', '2001:db8:::1/64'],
        ['10.0.0.1/8/8', '10.0.0.1/8/8'],
      ])('allowedCidrs %j is a 400 invalid_cidr naming %s', async (allowedCidrs, offending) => {
        const res = await http(server, 'POST', '/api/admin/siem/keys', {
          cookie,
          body: { description: 'cidr', allowedCidrs },
        });
        expectRefusal(res, 400, { code: 'invalid_cidr', mention: `"${offending}"` });
        expect(res.body.Message).toContain('allowedCidrs');
      });

      it('names the bad entry of a CIDR list given as an array', async () => {
        const res = await http(server, 'POST', '/api/admin/siem/keys', {
          cookie,
          body: { description: 'cidr', allowedCidrs: ['10.0.0.0/8', 'not-an-ip'] },
        });
        expectRefusal(res, 400, { code: 'invalid_cidr', mention: '"not-an-ip"' });
      });

      it('accepts IPv6 CIDRs and addresses, alone and mixed with IPv4, and normalizes them', async () => {
        const res = await http(server, 'POST', '/api/admin/siem/keys', {
          cookie,
          body: { description: 'v6', allowedCidrs: '2001:db8::/32, ::1, 10.0.0.0/24, fe80::1/64' },
        });
        expect(res.status).toBe(201);
        expect(res.body.allowedCidrs).toBe('2001:db8::/32, ::1/128, 10.0.0.0/24, fe80::1/64');
        const arr = await http(server, 'POST', '/api/admin/siem/keys', {
          cookie,
          body: { description: 'v6 list', allowedCidrs: ['2001:DB8:0:0::/48'] },
        });
        expect(arr.status).toBe(201);
        expect(arr.body.allowedCidrs).toBe('2001:db8::/48');
      });
    });

    describe('feed and viewer query strings', () => {
      it.each([
        ['limit', '-1', { limit: '-1' }, 'invalid_limit'],
        ['limit', 'empty', { limit: '' }, 'invalid_limit'],
        ['limit', '2.5', { limit: '2.5' }, 'invalid_limit'],
        ['since', 'empty', { since: '' }, 'invalid_since'],
        ['since', 'hour 25', { since: '2026-04-25T25:00:00Z' }, 'invalid_since'],
        ['cursor', 'over 2048 chars', { cursor: 'x'.repeat(3000) }, 'invalid_cursor'],
        ['eventType', '*', { eventType: '*' }, 'invalid_event_type'],
        ['eventType', 'over 1024 chars', { eventType: 'x'.repeat(2000) }, 'invalid_event_type'],
        ['eventType', 'empty', { eventType: '' }, 'invalid_event_type'],
      ])('refuses a feed %s (%s) with a JSON 400 and its own code', async (name, _label, params, code) => {
        // The code is the parameter's whether the schema or the parser catches the value: a SIEM
        // content pack keys on it.
        const res = await poll(server, key, params);
        expectRefusal(res, 400, { code, mention: name });
      });

      it('refuses a repeated parameter with a 400 naming it', async () => {
        const res = await http(server, 'GET', '/api/siem/events?limit=1&limit=2', {
          headers: { authorization: `ApiKey ${key}` },
        });
        expectRefusal(res, 400, { mention: 'limit' });
      });
    });

    it('fuzz: 100 seeded random bodies and query strings never get a 500, a stack or a server path', async () => {
      const random = seededRandom(FUZZ_SEED);
      const f = fuzzer(random);
      const statuses = new Map<number, number>();
      for (let i = 0; i < 100; i++) {
        const target = f.int(6);
        let label: string;
        let res: HttpResult;
        if (target === 0 || target === 1) {
          const b = f.body();
          const path = target === 0 ? '/api/auth/login' : '/api/admin/siem/keys';
          label = `#${i} POST ${path} ${b.headers['content-type']} ${JSON.stringify(b.rawBody).slice(0, 300)}`;
          res = await http(server, 'POST', path, { cookie, ...b });
        } else if (target === 2) {
          const q = f.query(['cursor', 'since', 'limit', 'eventType']);
          label = `#${i} GET /api/siem/events?${q}`;
          res = await http(server, 'GET', `/api/siem/events?${q}`, {
            headers: { authorization: `ApiKey ${key}` },
          });
        } else if (target === 3) {
          const q = f.query(['eventType', 'severity', 'outcome', 'actor', 'from', 'to', 'limit', 'before']);
          label = `#${i} GET /api/admin/audit/events?${q}`;
          res = await http(server, 'GET', `/api/admin/audit/events?${q}`, { cookie });
        } else if (target === 4) {
          const id = encodeURIComponent(
            String(f.pick(['', 'x', '0'.repeat(16), 'g'.repeat(16), '%', '😀', ' '])),
          );
          const path = `/api/admin/siem/keys/${id}${f.pick(['', '/polls', '/polls?limit=0', '/polls?limit=x'])}`;
          label = `#${i} ${f.pick(['DELETE', 'GET'])} ${path}`;
          res = await http(server, label.split(' ')[1]!, path, { cookie });
        } else {
          const b = f.body();
          const path = f.pick(['/api/auth/logout', '/api/me', '/healthz', '/api/siem/events']);
          const method = f.pick(['POST', 'PUT', 'PATCH', 'DELETE']);
          label = `#${i} ${method} ${path} ${b.headers['content-type']} ${JSON.stringify(b.rawBody).slice(0, 300)}`;
          res = await http(server, method, path, { cookie, ...b });
        }
        const context = `seed ${FUZZ_SEED}, ${label} -> ${res.status} ${res.text.slice(0, 500)}`;
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        expect(res.status, context).toBeLessThan(500);
        expect(res.headers.get('content-type') ?? '', context).toMatch(/^application\/json/);
        expectNoInternals(res, context);
        if (res.status >= 400) {
          expect(Object.keys(res.body ?? {}).sort(), context).toEqual(['Error', 'Message']);
          expect(res.body.Error, context).toMatch(/^[a-z_]+$/);
          expect(res.body.Message.length, context).toBeGreaterThan(0);
        } else {
          expect(res.body, context).toBeDefined();
        }
      }
      // The loop exercised refusals, not only one path.
      expect([...statuses.keys()].some((s) => s === 400)).toBe(true);
      // And the server is still answering.
      expect((await http(server, 'GET', '/api/me', { cookie })).status).toBe(200);
      expect(server.logs.join('\n')).not.toContain('"unhandled error"');
    });
  });
}
