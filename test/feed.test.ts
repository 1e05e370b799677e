/** The feed over real HTTP, on every store: envelope, order, cursor, parameters, errors. */
import crypto from 'node:crypto';
import nodeHttp from 'node:http';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendEvent } from '../src/modules/audit/audit-store.js';
import type { EventType } from '../src/modules/audit/event-types.js';
import { decodeCursor, encodeCursor, encodeLegacyCursor } from '../src/modules/feed/feed-cursor.js';
import {
  FEED_ENVELOPE_KEYS,
  buildKey,
  drain,
  http,
  login,
  poll,
  withinOneMinuteWindow,
} from './factories.js';
import { startServer, type TestServer } from './harness.js';
import { STORES, createTestDatabase, type TestDatabase } from './stores.js';

async function writeEvents(server: TestServer, specs: Array<{ type: EventType; at: number; name?: string }>) {
  const tenantId = await server.ctx.tenants.defaultTenantId(Date.now());
  await server.database.db.transaction().execute(async (trx) => {
    for (const s of specs) {
      await appendEvent(
        trx,
        tenantId,
        {
          eventType: s.type,
          outcome: s.type === 'Access.Denied' ? 'denied' : s.type === 'Login.Failure' ? 'failure' : 'success',
          actor: { userId: 7, username: 'writer', ip: '10.1.2.3', userAgent: 'test' },
          target: { type: 'Document', id: 1, name: s.name ?? 'doc' },
          details: { n: s.name ?? null },
        },
        s.at,
      );
    }
  });
}

for (const kind of STORES) {
  describe(`feed on ${kind}`, () => {
    let testDb: TestDatabase;
    let server: TestServer;
    let cookie: string;
    let key: string;

    beforeAll(async () => {
      testDb = await createTestDatabase(kind);
      server = await startServer(testDb);
      cookie = await login(server);
      key = (await buildKey(server, cookie)).key;
    });
    afterAll(async () => {
      await server?.close();
      await testDb?.drop();
    });

    it('returns the envelope of SPEC §2 with no-store, and a cursor on every page', async () => {
      const res = await poll(server, key, { limit: 5000 });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(res.headers.get('cache-control')).toBe('no-store');
      // Where the poll's time went, in milliseconds (W3C Server Timing): four stages, no read-ahead here.
      const timing = res.headers.get('server-timing') ?? '';
      expect(timing).toMatch(/^admit;dur=\d+\.\d, read;dur=\d+\.\d, body;dur=\d+\.\d, record;dur=\d+\.\d$/);
      expect(Object.keys(res.body).sort()).toEqual(['Checkpoint', 'Events', 'HasMore', 'NextCursor']);
      const login = res.body.Events.find((e) => e.EventType === 'Login.Success')!;
      expect(Object.keys(login).sort()).toEqual(FEED_ENVELOPE_KEYS);
      expect(login.Id).toMatch(/^LogsLogin:\d+$/);
      expect(login.Timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(login).toMatchObject({
        Category: 'Authentication',
        Severity: 'info',
        Outcome: 'success',
        SourceTable: 'LogsLogin',
        Actor: { Username: 'admin', ClientId: null },
        Target: { Type: 'Session', Id: null, Name: null },
        Ip: '127.0.0.1',
        Controls: ['AU-2', '3.3.1'],
        Details: { logType: 'LOGIN' },
      });
      expect(typeof login.Actor.UserId).toBe('number');
      const issued = res.body.Events.find((e) => e.EventType === 'PolicyChange')!;
      expect(issued).toMatchObject({ Severity: 'critical', Target: { Type: 'SiemKey' }, Category: 'Policy' });
      // Controls by Target.Type (a key issued is account management and authenticators, not AC-7).
      expect(issued.Controls).toEqual(['AC-2', 'IA-5']);
      expect(issued.Details.before).toBeNull();
      expect(issued.Details.after).toMatchObject({ status: 'active' });
      expect(JSON.stringify(res.body)).not.toContain(key.split('_').pop()!);

      const empty = await poll(server, key, { cursor: res.body.NextCursor });
      expect(empty.status).toBe(200);
      expect(empty.body.Events).toEqual([]);
      expect(empty.body.HasMore).toBe(false);
      expect(empty.body.NextCursor).toMatch(/^[A-Za-z0-9_-]+$/);
    });

    it('orders events by timestamp across tables and follows the cursor without gap or duplicate', async () => {
      const start = await drain(server, key);
      const base = Date.UTC(2030, 0, 1);
      const types: EventType[] = [
        'Login.Failure',
        'Access.Object',
        'Access.Denied',
        'AdminAction',
        'Login.Success',
      ];
      // Interleaved tables, several in the same millisecond, the LogsLogin rows written after the
      // others: id order across tables differs from timestamp order. One transaction, so the
      // sequencer finds them all at once and interleaves them by timestamp.
      const specs = Array.from({ length: 120 }, (_, i) => ({
        type: types[i % types.length]!,
        at: base + Math.floor(i / 3),
        name: `e${i}`,
      }));
      await writeEvents(server, [
        ...specs.filter((s) => !s.type.startsWith('Login.')),
        ...specs.filter((s) => s.type.startsWith('Login.')),
      ]);
      const seen: Array<Record<string, any>> = [];
      let cursor = start.cursor;
      for (;;) {
        const page = await poll(server, key, { cursor, limit: 7 });
        expect(page.status).toBe(200);
        expect(page.body.Events.length).toBeLessThanOrEqual(7);
        seen.push(...page.body.Events);
        cursor = page.body.NextCursor;
        if (!page.body.HasMore) break;
      }
      const names = seen.map((e) => e.Details.n);
      expect(new Set(names).size).toBe(120);
      expect(names.length).toBe(120);
      // Seq: contiguous, in page order.
      const first = seen[0]!.Seq as number;
      expect(seen.map((e) => e.Seq)).toEqual(seen.map((_, i) => first + i));
      // Timestamp order across tables (all rows were committed before the first read).
      const times = seen.map((e) => Date.parse(e.Timestamp));
      expect([...times].sort((a, b) => a - b)).toEqual(times);
      // Each table's events in their commit (id) order.
      for (const table of ['LogsLogin', 'LogsAccess', 'LogsDenied', 'LogsAdmin']) {
        const ids = seen.filter((e) => e.SourceTable === table).map((e) => Number(e.Id.split(':')[1]));
        expect(ids.length).toBeGreaterThan(0);
        expect([...ids].sort((a, b) => a - b)).toEqual(ids);
      }
    });

    it('serves a retried page identically and never repeats after it', async () => {
      const { cursor } = await drain(server, key);
      await writeEvents(server, [
        { type: 'Login.Failure', at: Date.now(), name: 'r1' },
        { type: 'Access.Object', at: Date.now(), name: 'r2' },
      ]);
      const a = await poll(server, key, { cursor });
      const b = await poll(server, key, { cursor });
      expect(a.body.Events.map((e) => e.Id)).toEqual(b.body.Events.map((e) => e.Id));
      expect(a.body.Events.map((e) => e.Details.n)).toEqual(['r1', 'r2']);
      const after = await poll(server, key, { cursor: b.body.NextCursor });
      expect(after.body.Events).toEqual([]);
    });

    it('filters by eventType (list and Login.*) and advances the cursor past what it skipped', async () => {
      const { cursor } = await drain(server, key);
      const now = Date.now();
      await writeEvents(server, [
        { type: 'Login.Failure', at: now, name: 'f1' },
        { type: 'Access.Object', at: now, name: 'a1' },
        { type: 'Login.Success', at: now + 1, name: 's1' },
        { type: 'Access.Denied', at: now + 2, name: 'd1' },
      ]);
      const list = await poll(server, key, { cursor, eventType: 'Login.Failure,Access.Denied' });
      expect(list.body.Events.map((e) => e.Details.n)).toEqual(['f1', 'd1']);
      const prefix = await poll(server, key, { cursor, eventType: 'Login.*' });
      expect(prefix.body.Events.map((e) => e.Details.n)).toEqual(['f1', 's1']);
      // The filtered poll's cursor has passed the skipped Access.Object: an unfiltered poll after it is empty.
      const after = await poll(server, key, { cursor: list.body.NextCursor });
      expect(after.body.Events.filter((e) => e.Details.n)).toEqual([]);
    });

    it('keeps poll records out of the default feed and returns them by name', async () => {
      const { events } = await drain(server, key);
      expect(events.some((e) => e.EventType === 'Audit.SiemPoll')).toBe(false);
      const polls = await poll(server, key, { eventType: 'Audit.SiemPoll' });
      expect(polls.body.Events.length).toBeGreaterThan(3);
      const rec = polls.body.Events[0]!;
      expect(rec).toMatchObject({
        SourceTable: 'LogsSiemPoll',
        Category: 'Audit',
        Target: { Type: 'SiemFeed' },
      });
      expect(Object.keys(rec.Details)).toEqual(
        expect.arrayContaining(['siemKeyId', 'eventCount', 'durationMs', 'cursorIn', 'cursorOut', 'filter']),
      );
    });

    it('honours since in every documented form, and the cursor keeps honouring it', async () => {
      const day = Date.UTC(2031, 5, 15);
      await writeEvents(server, [
        { type: 'Access.Object', at: day - 1, name: 'before' },
        { type: 'Access.Object', at: day, name: 'at' },
        { type: 'Login.Failure', at: day + 3_600_000, name: 'later' },
      ]);
      for (const since of [
        '2031-06-15T00:00:00Z',
        '2031-06-15T02:00:00+02:00',
        '2031-06-15T00:00:00',
        '2031-06-15',
      ]) {
        const { events } = await drain(server, key, { since, limit: 1 });
        const names = events.map((e) => e.Details.n).filter(Boolean);
        expect(names, since).toEqual(['at', 'later']);
      }
      // An offset's `+` pasted into the URL unencoded (it arrives as a space) still means +02:00.
      const pasted = await http<{ Events: Array<{ Details: { n?: string } }> }>(
        server,
        'GET',
        '/api/siem/events?since=2031-06-15T02:00:00+02:00&limit=5000',
        { headers: { authorization: `ApiKey ${key}` } },
      );
      expect(pasted.status, pasted.text).toBe(200);
      expect(pasted.body.Events.map((e) => e.Details.n).filter(Boolean)).toEqual(['at', 'later']);
      // cursor wins over since
      const first = await poll(server, key, { since: '2031-06-15' });
      const withBoth = await poll(server, key, { cursor: first.body.NextCursor, since: '1999-01-01' });
      expect(withBoth.status).toBe(200);
      expect(withBoth.body.Events.map((e) => e.Details.n).filter(Boolean)).toEqual([]);
    });

    it('answers a sparse filter over a backlog with work in proportion to its matches', async () => {
      const { cursor } = await drain(server, key);
      const at = Date.now();
      const many = Array.from({ length: 20_500 }, (_, i) => ({
        type: 'Login.Success' as EventType,
        at,
        name: `bulk${i}`,
      }));
      many.push({ type: 'Login.Failure', at: at + 1, name: 'needle' });
      await writeEvents(server, many);
      // Pages stay bounded while the sequencer catches up (HasMore until it has); the filter reads
      // only Login.Failure entries, so the needle comes without the 20,500 others being read.
      let polls = 0;
      let next = cursor;
      const found: unknown[] = [];
      for (;;) {
        const page = await poll(server, key, { cursor: next, eventType: 'Login.Failure' });
        expect(page.status).toBe(200);
        polls += 1;
        found.push(...page.body.Events.map((e) => e.Details.n));
        next = page.body.NextCursor;
        if (!page.body.HasMore) break;
      }
      expect(found).toEqual(['needle']);
      expect(polls).toBeLessThanOrEqual(10);
    }, 120_000);

    it('gzips when asked, a one-event page too', async () => {
      // node:http, not fetch: fetch would decompress silently and hide what the server sent.
      const get = (limit: number) =>
        new Promise<{ status: number; encoding: string | undefined; vary: unknown; bytes: Buffer }>(
          (resolve, reject) => {
            const req = nodeHttp.get(
              `${server.url}/api/siem/events?limit=${limit}`,
              { headers: { authorization: `ApiKey ${key}`, 'accept-encoding': 'gzip' } },
              (res) => {
                const chunks: Buffer[] = [];
                res.on('data', (c: Buffer) => chunks.push(c));
                res.on('end', () =>
                  resolve({
                    status: res.statusCode!,
                    encoding: res.headers['content-encoding'],
                    vary: res.headers.vary,
                    bytes: Buffer.concat(chunks),
                  }),
                );
              },
            );
            req.on('error', reject);
          },
        );
      for (const limit of [50, 1]) {
        const raw = await get(limit);
        expect(raw.status).toBe(200);
        expect(raw.encoding, `limit=${limit}`).toBe('gzip');
        expect(raw.vary).toMatch(/accept-encoding/i);
        const body = JSON.parse(zlib.gunzipSync(raw.bytes).toString('utf8'));
        expect(body.Events.length).toBeGreaterThanOrEqual(1);
        expect(body.Events.length).toBeLessThanOrEqual(limit);
      }
    });

    it('reads ahead for a sequential poller: same pages, every poll recorded, never for another key', async () => {
      const served = async () =>
        (await server.ctx.metrics.readAhead.get()).values.find((v) => v.labels.outcome === 'served')?.value ??
        0;
      const a = await buildKey(server, cookie, { description: 'read-ahead A' });
      const b = await buildKey(server, cookie, { description: 'read-ahead B' });
      const start = (await drain(server, a.key)).cursor;
      await writeEvents(
        server,
        Array.from({ length: 30 }, (_, i) => ({
          type: 'Access.Object' as EventType,
          at: Date.now(),
          name: `ra${i}`,
        })),
      );
      // Key B reads the chain first, with no read-ahead of its own (it never follows its own cursors
      // twice in a row here): the reference pages.
      const reference: Array<{ cursor: string; ids: string[] }> = [];
      let cursor = start;
      for (;;) {
        const page = await poll(server, b.key, { cursor, limit: 5 });
        reference.push({ cursor, ids: page.body.Events.map((e) => e.Id as string) });
        cursor = page.body.NextCursor;
        if (!page.body.HasMore) break;
      }
      expect(reference.length).toBeGreaterThanOrEqual(6);

      // Key A follows the same chain, gzip (fetch asks for it) and then identity: from its third page
      // on, pages come from read-ahead, and they are the same pages.
      const encodings: Array<Record<string, string>> = [{}, { 'accept-encoding': 'identity' }];
      for (const headers of encodings) {
        const before = await served();
        const pollsBefore = (await http(server, 'GET', `/api/admin/siem/keys/${a.id}/polls`, { cookie })).body
          .length;
        const seen: string[][] = [];
        const timings: string[] = [];
        cursor = start;
        for (;;) {
          const page = await poll(server, a.key, { cursor, limit: 5 }, headers);
          expect(page.status).toBe(200);
          seen.push(page.body.Events.map((e) => e.Id as string));
          timings.push(page.headers.get('server-timing') ?? '');
          cursor = page.body.NextCursor;
          if (!page.body.HasMore) break;
        }
        expect(seen).toEqual(reference.map((r) => r.ids));
        expect((await served()) - before).toBe(reference.length - 2);
        // Server-Timing tells the pages served from read-ahead (no body work in the poll) from the others.
        const ahead = /read;dur=\d+\.\d;desc="read-ahead", body;dur=0\.0,/;
        expect(timings.map((t) => ahead.test(t))).toEqual(reference.map((_, i) => i >= 2));
        const polls = (await http(server, 'GET', `/api/admin/siem/keys/${a.id}/polls`, { cookie })).body
          .length;
        expect(polls - pollsBefore).toBe(reference.length);
      }

      // A's chain is ready for its third page: B asking for it is answered afresh, not from A's chain.
      await poll(server, a.key, { cursor: reference[0]!.cursor, limit: 5 });
      await poll(server, a.key, { cursor: reference[1]!.cursor, limit: 5 });
      const ready = await served();
      const other = await poll(server, b.key, { cursor: reference[2]!.cursor, limit: 5 });
      expect(other.body.Events.map((e) => e.Id)).toEqual(reference[2]!.ids);
      expect(await served()).toBe(ready);
      expect(other.headers.get('server-timing')).not.toMatch(/read-ahead/);
      // No HEAD twin of the feed: it would take A's prepared page and record a poll without sending it.
      const head = await http(server, 'HEAD', `/api/siem/events?cursor=${reference[2]!.cursor}&limit=5`, {
        headers: { authorization: `ApiKey ${a.key}` },
      });
      expect(head.status).toBe(404);
      expect(await served()).toBe(ready);
      // Revoked at once: the page prepared for A is never handed out.
      expect((await http(server, 'DELETE', `/api/admin/siem/keys/${a.id}`, { cookie })).status).toBe(200);
      expect((await poll(server, a.key, { cursor: reference[2]!.cursor, limit: 5 })).status).toBe(401);
      expect(await served()).toBe(ready);
    });

    it.each([
      ['cursor', { cursor: 'not-a-cursor!' }, 'invalid_cursor'],
      ['cursor', { cursor: 'eyJ2IjoxfQ' }, 'invalid_cursor'],
      ['since', { since: 'yesterday' }, 'invalid_since'],
      ['since', { since: '2026-02-30' }, 'invalid_since'],
      ['limit', { limit: '0' }, 'invalid_limit'],
      ['limit', { limit: '5001' }, 'invalid_limit'],
      ['limit', { limit: 'ten' }, 'invalid_limit'],
      ['limit', { limit: '0x10' }, 'invalid_limit'],
      ['limit', { limit: '1e3' }, 'invalid_limit'],
      ['eventType', { eventType: '' }, 'invalid_event_type'],
      ['eventType', { eventType: 'Login.Bogus' }, 'invalid_event_type'],
      ['eventType', { eventType: 'Nope.*' }, 'invalid_event_type'],
      ['eventType', { eventType: 'Login.Failure,' }, 'invalid_event_type'],
      ['evenType', { evenType: 'Login.Failure' }, 'invalid_request'],
    ])('refuses a bad %s with a 400 naming it', async (name, params, code) => {
      const res = await poll(server, key, params as Record<string, string>);
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ Error: code, Message: expect.stringContaining(name) });
    });

    it('refuses a forged, truncated or other-tenant cursor with 400', async () => {
      const good = (await poll(server, key, { limit: 1 })).body.NextCursor;
      const truncated = good.slice(0, -3);
      const flipped = good.slice(0, 10) + (good[10] === 'A' ? 'B' : 'A') + good.slice(11);
      const forged = encodeCursor({ v: 2, log: 'trail', next: 0, since: null }, Buffer.alloc(32), 1);
      const otherTenant = encodeCursor(
        { v: 2, log: 'trail', next: 0, since: null },
        server.ctx.cursorKey,
        999,
      );
      const legacyForged = encodeLegacyCursor({ since: null, positions: {} }, Buffer.alloc(32), 1);
      // A poll-log cursor sent to the trail (another eventType) is refused too, naming why.
      const tenantId = await server.ctx.tenants.defaultTenantId(Date.now());
      const pollLog = encodeCursor(
        { v: 2, log: 'polls', next: 0, since: null },
        server.ctx.cursorKey,
        tenantId,
      );
      for (const cursor of [truncated, flipped, forged, otherTenant, legacyForged, pollLog]) {
        const res = await poll(server, key, { cursor });
        expect(res.status).toBe(400);
        expect(res.body.Error).toBe('invalid_cursor');
      }
    });

    it("continues a release-0.1 cursor (even one carrying a newer release's table), and asks to retry a newer version", async () => {
      const tenantId = await server.ctx.tenants.defaultTenantId(Date.now());
      await drain(server, key);
      // What a 0.1.x node would have answered after the same drain: every table's last row.
      const positions: Record<string, { txid: number; id: number }> = {};
      for (const [name, table] of [
        ['LogsLogin', 'logs_login'],
        ['LogsAccess', 'logs_access'],
        ['LogsAdmin', 'logs_admin'],
        ['LogsDenied', 'logs_denied'],
      ] as const) {
        const last = await server.database.db
          .selectFrom(table)
          .select(['txid', 'id'])
          .where('tenant_id', '=', tenantId)
          .orderBy('txid', 'desc')
          .orderBy('id', 'desc')
          .executeTakeFirst();
        if (last) positions[name] = { txid: Number(last.txid), id: Number(last.id) };
      }
      const legacy = encodeLegacyCursor(
        { since: null, positions, foreign: { LogsFuture: [41, 42] } },
        server.ctx.cursorKey,
        tenantId,
      );
      await writeEvents(server, [{ type: 'Login.Failure', at: Date.now(), name: 'after-upgrade' }]);
      const page = await poll(server, key, { cursor: legacy });
      expect(page.status).toBe(200);
      expect(page.body.Events.map((e) => e.Details.n)).toEqual(['after-upgrade']);
      expect(decodeCursor(page.body.NextCursor, server.ctx.cursorKey, tenantId)).toMatchObject({
        v: 2,
        log: 'trail',
        next: page.body.Events[0]!.Seq + 1,
      });
      // A genuine cursor of a newer version: retry later (an upgraded node reads it), not restart.
      const payload = Buffer.from('{"v":3,"q":7}');
      const mac = crypto
        .createHmac('sha256', server.ctx.cursorKey)
        .update(`itp.cursor.v1|${tenantId}|`)
        .update(payload)
        .digest()
        .subarray(0, 16);
      const newer = await poll(server, key, { cursor: Buffer.concat([payload, mac]).toString('base64url') });
      expect(newer.status).toBe(503);
      expect(newer.body.Error).toBe('cursor_from_newer_release');
      expect(newer.headers.get('retry-after')).toBe('5');
    });

    it('gives the same 401 for every key failure, with WWW-Authenticate', async () => {
      const other = await buildKey(server, cookie, {
        description: 'elsewhere',
        allowedCidrs: '203.0.113.0/24',
      });
      const revoked = await buildKey(server, cookie, { description: 'to revoke' });
      await http(server, 'DELETE', `/api/admin/siem/keys/${revoked.id}`, { cookie });
      const [, , id, secret] = key.split('_');
      const wrongSecret = `itp_siem_${id}_${secret!.replace(/^./, (c) => (c === 'a' ? 'b' : 'a'))}`;
      const unknown = `itp_siem_0000000000000000_${'a'.repeat(64)}`;
      // A secret cut short (or with a character too many) still names a real key: a bad secret.
      const cut = await buildKey(server, cookie, { description: 'cut short' });
      const bodies = new Set<string>();
      for (const auth of [
        undefined,
        'ApiKey',
        `ApiKey ${unknown}`,
        `ApiKey ${wrongSecret}`,
        `ApiKey ${cut.key.slice(0, -1)}`,
        `ApiKey ${cut.key}0`,
        `ApiKey ${revoked.key}`,
        `ApiKey ${other.key}`,
        `Basic ${key}`,
        `Bearer ${key}`, // one scheme, as the docs say
      ]) {
        const res = await http(server, 'GET', '/api/siem/events', {
          headers: auth ? { authorization: auth } : {},
        });
        expect(res.status, auth).toBe(401);
        expect(res.headers.get('www-authenticate')).toBe('ApiKey');
        bodies.add(res.text);
      }
      expect(bodies.size).toBe(1);
      // The scheme is case-insensitive (RFC 9110 §11.1).
      expect(
        (await http(server, 'GET', '/api/siem/events', { headers: { authorization: `apikey ${key}` } }))
          .status,
      ).toBe(200);
      // refused polls naming a real key are recorded as Access.Denied / SiemKey
      const denied = await drain(server, key, { eventType: 'Access.Denied' });
      const reasons = denied.events.filter((e) => e.Target.Type === 'SiemKey').map((e) => e.Details.reason);
      expect(reasons).toEqual(expect.arrayContaining(['bad_secret', 'revoked', 'address_not_allowed']));
      expect(
        denied.events
          .filter((e) => e.Target.Type === 'SiemKey' && e.Target.Id === cut.id)
          .map((e) => e.Details.reason),
      ).toEqual(['bad_secret']);
      for (const e of denied.events) {
        expect(JSON.stringify(e)).not.toContain(secret!);
        expect(JSON.stringify(e)).not.toContain(cut.key.split('_')[3]!.slice(0, 40));
      }
    });

    it('throttles Access.Denied records for a flood of refused polls', async () => {
      const victim = await buildKey(server, cookie, { description: 'flooded' });
      const bad = victim.key.slice(0, -1) + (victim.key.endsWith('a') ? 'b' : 'a');
      // 10 wrong secrets get 401, the rest 429 (guessing is throttled per key: security-review.test.ts).
      await withinOneMinuteWindow();
      for (let i = 0; i < 25; i++) {
        const res = await poll(server, bad);
        expect(res.status).toBe(i < 10 ? 401 : 429);
      }
      const denied = await drain(server, key, { eventType: 'Access.Denied' });
      const forVictim = denied.events.filter((e) => e.Target.Id === victim.id);
      // The first refusal in full, one summary at the 10th.
      expect(forVictim.map((e) => e.Details.suppressed ?? 0)).toEqual([0, 8]);
    });

    it('answers 429 with Retry-After over the per-key rate limit', async () => {
      const limited = await startServer(testDb, { SIEM_RATE_LIMIT_PER_MINUTE: '3' });
      try {
        const k = (await buildKey(limited, await login(limited), { description: 'limited' })).key;
        const statuses: number[] = [];
        let retryAfter: string | null = null;
        for (let i = 0; i < 5; i++) {
          const res = await poll(limited, k, { limit: 1 });
          statuses.push(res.status);
          if (res.status === 429) {
            retryAfter = res.headers.get('retry-after');
            expect(res.body.Error).toBe('rate_limited');
          }
        }
        expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
        expect(statuses.slice(3)).toEqual([429, 429]);
        expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
        expect(Number(retryAfter)).toBeLessThanOrEqual(60);
      } finally {
        await limited.close();
      }
    });
  });
}
