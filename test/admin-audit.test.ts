/**
 * The admin event viewer, GET /api/admin/audit/events, over real HTTP on every store: the feed's
 * envelope newest first, each filter and its 400, keyset paging with no gap or duplicate across tables
 * and within a millisecond, and the session and role checks (a member's refusal is itself recorded).
 */
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendEvent } from '../src/modules/audit/audit-store.js';
import type { EventType, Outcome, Severity } from '../src/modules/audit/event-types.js';
import {
  ENVELOPE_KEYS,
  buildKey,
  buildUser,
  drain,
  http,
  login,
  withinOneMinuteWindow,
} from './factories.js';
import { startServer, type TestServer } from './harness.js';
import { STORES, createTestDatabase, type TestDatabase } from './stores.js';

/** Source tables in the viewer's tie-break order within one millisecond (newest first = reverse). */
const TABLE_ORDER = ['LogsLogin', 'LogsAccess', 'LogsAdmin', 'LogsDenied', 'LogsSiemPoll'];

type Event = Record<string, any>;

interface Spec {
  type: EventType;
  at: number;
  name: string;
  username?: string;
  severity?: Severity;
  outcome?: Outcome;
}

const DEFAULT_OUTCOME: Partial<Record<EventType, Outcome>> = {
  'Access.Denied': 'denied',
  'Login.Failure': 'failure',
};

/** Writes events straight to the store, in one transaction, as the portal's own writers do. */
async function writeEvents(server: TestServer, specs: Spec[]): Promise<void> {
  const tenantId = await server.ctx.tenants.defaultTenantId(Date.now());
  await server.database.db.transaction().execute(async (trx) => {
    for (const s of specs) {
      await appendEvent(
        trx,
        tenantId,
        {
          eventType: s.type,
          outcome: s.outcome ?? DEFAULT_OUTCOME[s.type] ?? 'success',
          ...(s.severity ? { severity: s.severity } : {}),
          actor: { userId: 7, username: s.username ?? 'writer', ip: '10.1.2.3', userAgent: 'test' },
          target: { type: 'Document', id: 1, name: s.name },
          details: { n: s.name },
        },
        s.at,
      );
    }
  });
}

/** A row recorded before the structured tags existed: no EventType, Severity or Outcome stored. */
async function writeLegacyAdminRow(server: TestServer, at: number, message: string): Promise<void> {
  const tenantId = await server.ctx.tenants.defaultTenantId(Date.now());
  const db = server.database.db as unknown as Kysely<Record<string, Record<string, unknown>>>;
  await db
    .insertInto('logs_admin')
    .values({
      tenant_id: tenantId,
      created_at: at,
      user_id: 3,
      username: 'legacy-admin',
      action: 'settings.update',
      message,
      ip: '10.9.9.9',
    })
    .execute();
}

function viewer(
  server: TestServer,
  cookie: string,
  params: Record<string, string | number | undefined> = {},
) {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) qs.set(k, String(v));
  const q = qs.toString();
  return http<{ Events: Event[]; NextPage: string | null; Error?: string; Message?: string }>(
    server,
    'GET',
    `/api/admin/audit/events${q ? `?${q}` : ''}`,
    { cookie },
  );
}

/** Follows NextPage until it is null; returns every page's events in order and the page count. */
async function walk(
  server: TestServer,
  cookie: string,
  params: Record<string, string | number | undefined>,
  between?: (page: number) => Promise<void>,
) {
  const events: Event[] = [];
  let before: string | undefined;
  for (let pages = 1; pages < 1000; pages++) {
    const res = await viewer(server, cookie, { ...params, before });
    expect(res.status, res.text).toBe(200);
    events.push(...res.body.Events);
    if (res.body.NextPage === null) return { events, pages };
    expect(res.body.NextPage).toMatch(/^[A-Za-z0-9_-]+$/);
    before = res.body.NextPage;
    await between?.(pages);
  }
  throw new Error('walk did not finish');
}

const names = (events: Event[]) => events.map((e) => e.Details.n as string);

/** Newest first: time descending, then table order descending, then id descending. */
function expectNewestFirst(events: Event[]): void {
  for (let i = 1; i < events.length; i++) {
    const a = events[i - 1]!;
    const b = events[i]!;
    const ta = Date.parse(a.Timestamp);
    const tb = Date.parse(b.Timestamp);
    const context = `${a.Id} @${a.Timestamp} then ${b.Id} @${b.Timestamp}`;
    expect(ta, context).toBeGreaterThanOrEqual(tb);
    if (ta !== tb) continue;
    const oa = TABLE_ORDER.indexOf(a.SourceTable);
    const ob = TABLE_ORDER.indexOf(b.SourceTable);
    expect(oa, context).toBeGreaterThanOrEqual(ob);
    if (oa === ob) expect(Number(a.Id.split(':')[1]), context).toBeGreaterThan(Number(b.Id.split(':')[1]));
  }
}

const iso = (t: number) => new Date(t).toISOString();

for (const kind of STORES) {
  describe(`admin audit viewer on ${kind}`, () => {
    let testDb: TestDatabase;
    let server: TestServer;
    let cookie: string;

    beforeAll(async () => {
      testDb = await createTestDatabase(kind);
      server = await startServer(testDb);
      cookie = await login(server);
    });
    afterAll(async () => {
      await server?.close();
      await testDb?.drop();
    });

    it('returns {Events, NextPage} newest first, each event the same envelope as the feed', async () => {
      const { key } = await buildKey(server, cookie, { description: 'viewer envelope' });
      await writeEvents(server, [
        { type: 'Login.Failure', at: Date.now(), name: 'env-1' },
        { type: 'Access.Object', at: Date.now(), name: 'env-2' },
      ]);
      const res = await viewer(server, cookie, { limit: 500 });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(Object.keys(res.body).sort()).toEqual(['Events', 'NextPage']);
      expect(res.body.NextPage).toBeNull();
      const events = res.body.Events;
      expect(events.length).toBeGreaterThanOrEqual(4);
      for (const e of events) expect(Object.keys(e).sort(), e.Id).toEqual(ENVELOPE_KEYS);
      expectNewestFirst(events);
      expect(new Set(events.map((e) => e.Id)).size).toBe(events.length);

      // The feed's envelope for every event both can see, without the Seq only the feed carries (the
      // viewer reads the source tables, so it also shows events not sequenced yet).
      const feed = await drain(server, key, { eventType: 'Login.*,Access.*,PolicyChange,AdminAction' });
      const byId = new Map(feed.events.map((e) => [e.Id, e]));
      const shared = events.filter((e) => byId.has(e.Id));
      expect(shared.length).toBeGreaterThanOrEqual(4);
      for (const e of shared) {
        const { Seq, ...rest } = byId.get(e.Id)!;
        expect(Seq, e.Id).toEqual(expect.any(Number));
        expect(e, e.Id).toEqual(rest);
      }
      const issued = events.find(
        (e) => e.EventType === 'PolicyChange' && e.Target.Name === 'viewer envelope',
      )!;
      expect(issued).toMatchObject({
        Category: 'Policy',
        Severity: 'critical',
        SourceTable: 'LogsAdmin',
        Actor: { Username: 'admin' },
        Target: { Type: 'SiemKey' },
        Controls: ['AC-2', 'IA-5'],
      });
      expect(issued.Timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      // The viewer never shows a secret.
      expect(res.text).not.toContain(key.split('_').pop()!);
    });

    describe('filters', () => {
      // A window of its own, far from every other test's events.
      const base = Date.UTC(2033, 2, 10, 12, 0, 0);
      const specs: Spec[] = [
        { type: 'Login.Success', at: base, name: 'f-login-ok', username: 'alice' },
        { type: 'Login.Failure', at: base + 1, name: 'f-login-bad', username: 'mallory' },
        { type: 'Login.Logout', at: base + 2, name: 'f-logout', username: 'alice' },
        { type: 'Access.Object', at: base + 3, name: 'f-read', username: 'bob' },
        { type: 'Access.Object', at: base + 4, name: 'f-reveal', username: 'bob', severity: 'warning' },
        { type: 'Access.Denied', at: base + 5, name: 'f-denied', username: 'mallory' },
        { type: 'PolicyChange', at: base + 6, name: 'f-policy', username: 'alice', severity: 'critical' },
        { type: 'AdminAction', at: base + 7, name: 'f-admin', username: 'alice' },
        { type: 'AdminAction', at: base + 8, name: 'f-admin-failed', username: 'bob', outcome: 'failure' },
        { type: 'Audit.SiemPoll', at: base + 9, name: 'f-poll' },
      ];
      const window = { from: iso(base), to: iso(base + 1000) };
      const query = (params: Record<string, string>) =>
        viewer(server, cookie, { ...window, limit: 500, ...params });

      beforeAll(async () => {
        await writeEvents(server, specs);
        await writeLegacyAdminRow(server, base + 10, 'f-legacy');
      });

      it('without a filter returns every type in the window, poll records and legacy rows included', async () => {
        const res = await query({});
        expect(res.status).toBe(200);
        expect(res.body.Events.length).toBe(specs.length + 1);
        const legacy = res.body.Events[0]!;
        expect(legacy).toMatchObject({
          EventType: 'AdminAction',
          Severity: 'info',
          Outcome: 'success',
          SourceTable: 'LogsAdmin',
          Actor: { Username: 'legacy-admin' },
          Details: { message: 'f-legacy', legacy: true },
        });
        expect(names(res.body.Events.slice(1))).toEqual(specs.map((s) => s.name).reverse());
      });

      it('filters eventType by a list', async () => {
        const res = await query({ eventType: 'Login.Failure,Access.Denied' });
        expect(res.status).toBe(200);
        expect(names(res.body.Events)).toEqual(['f-denied', 'f-login-bad']);
      });

      it('filters eventType by a category prefix such as Login.*', async () => {
        const res = await query({ eventType: 'Login.*' });
        expect(names(res.body.Events)).toEqual(['f-logout', 'f-login-bad', 'f-login-ok']);
        const mixed = await query({ eventType: 'Access.*,Audit.SiemPoll' });
        expect(names(mixed.body.Events)).toEqual(['f-poll', 'f-denied', 'f-reveal', 'f-read']);
      });

      it('filters eventType=AdminAction including legacy rows', async () => {
        const res = await query({ eventType: 'AdminAction' });
        expect(res.body.Events.map((e) => e.Details.n ?? e.Details.message)).toEqual([
          'f-legacy',
          'f-admin-failed',
          'f-admin',
        ]);
      });

      it('filters severity, one value or a list, with legacy rows as info', async () => {
        const critical = await query({ severity: 'critical' });
        expect(names(critical.body.Events)).toEqual(['f-policy']);
        const raised = await query({ severity: 'warning,critical' });
        expect(names(raised.body.Events)).toEqual(['f-policy', 'f-denied', 'f-reveal', 'f-login-bad']);
        const info = await query({ severity: 'info' });
        expect(info.body.Events.every((e) => e.Severity === 'info')).toBe(true);
        expect(info.body.Events.length).toBe(specs.length + 1 - 4);
      });

      it('filters outcome, one value or a list', async () => {
        const denied = await query({ outcome: 'denied' });
        expect(names(denied.body.Events)).toEqual(['f-denied']);
        const bad = await query({ outcome: 'failure,denied' });
        expect(names(bad.body.Events)).toEqual(['f-admin-failed', 'f-denied', 'f-login-bad']);
        const success = await query({ outcome: 'success' });
        expect(success.body.Events.length).toBe(specs.length + 1 - 3);
      });

      it('filters actor by exact username, and combines with the other filters', async () => {
        const alice = await query({ actor: 'alice' });
        expect(names(alice.body.Events)).toEqual(['f-admin', 'f-policy', 'f-logout', 'f-login-ok']);
        const nobody = await query({ actor: 'ali' });
        expect(nobody.body.Events).toEqual([]);
        const combined = await query({ actor: 'alice', eventType: 'Login.*', outcome: 'success' });
        expect(names(combined.body.Events)).toEqual(['f-logout', 'f-login-ok']);
        const bob = await query({ actor: 'bob', severity: 'warning' });
        expect(names(bob.body.Events)).toEqual(['f-reveal']);
      });

      it('filters from (inclusive) and to (exclusive), in every ISO 8601 form', async () => {
        const res = await viewer(server, cookie, { from: iso(base + 3), to: iso(base + 6), limit: 500 });
        expect(names(res.body.Events)).toEqual(['f-denied', 'f-reveal', 'f-read']);
        // The same instants written with an offset.
        const offset = (t: number) => iso(t + 2 * 3_600_000).replace('Z', '+02:00');
        const same = await viewer(server, cookie, {
          from: offset(base + 3),
          to: offset(base + 6),
          limit: 500,
        });
        expect(names(same.body.Events)).toEqual(['f-denied', 'f-reveal', 'f-read']);
        // A bare date is midnight UTC: the whole day holds every event of the window.
        const day = await viewer(server, cookie, { from: '2033-03-10', to: '2033-03-11', limit: 500 });
        expect(day.body.Events.length).toBe(specs.length + 1);
        const onlyFrom = await viewer(server, cookie, { from: iso(base + 9), limit: 500 });
        expect(onlyFrom.body.Events.map((e) => e.Details.n ?? e.Details.message).slice(-2)).toEqual([
          'f-legacy',
          'f-poll',
        ]);
        const onlyTo = await viewer(server, cookie, { to: iso(base + 1), limit: 500 });
        expect(onlyTo.body.Events.some((e) => e.Details.n === 'f-login-ok')).toBe(true);
        expect(onlyTo.body.Events.some((e) => e.Details.n === 'f-login-bad')).toBe(false);
        const empty = await viewer(server, cookie, { from: iso(base + 6), to: iso(base + 6) });
        expect(empty.body).toEqual({ Events: [], NextPage: null });
      });

      it.each([
        ['eventType', 'Login.Bogus'],
        ['eventType', 'Nope.*'],
        ['eventType', 'Login.Failure,'],
        ['eventType', ''],
        ['severity', 'high'],
        ['severity', 'info,'],
        ['severity', ''],
        ['outcome', 'maybe'],
        ['outcome', 'Success'],
        ['actor', ''],
        ['actor', 'a'.repeat(201)],
        ['from', 'yesterday'],
        ['from', '2026-02-30'],
        ['to', '2026-13-01T00:00:00Z'],
        ['to', '1700000000000'],
        ['limit', '0'],
        ['limit', '501'],
        ['limit', 'ten'],
        ['before', 'not-a-token!'],
        ['before', Buffer.from('{"t":-1,"o":0,"i":1}').toString('base64url')],
        ['before', Buffer.from('[1,2,3]').toString('base64url')],
        ['bogus', '1'],
      ])('refuses %s=%j with a JSON 400 naming the parameter', async (name, value) => {
        const res = await viewer(server, cookie, { [name]: value });
        expect(res.status, res.text).toBe(400);
        expect(Object.keys(res.body).sort()).toEqual(['Error', 'Message']);
        expect(res.body.Error).toMatch(/^(invalid_request|invalid_[a-z_]+)$/);
        expect(res.body.Message).toContain(name);
        expect(res.text).not.toMatch(/node_modules|\bat \S+ \(/);
      });
    });

    describe('paging', () => {
      const base = Date.UTC(2036, 6, 1, 8, 0, 0);
      const window = { from: iso(base), to: iso(base + 60_000) };
      const TYPES: EventType[] = [
        'Login.Failure',
        'Access.Object',
        'AdminAction',
        'Access.Denied',
        'Audit.SiemPoll',
      ];
      // 60 events over 15 milliseconds, four to a millisecond, spread over all five tables.
      const specs: Spec[] = Array.from({ length: 60 }, (_, i) => ({
        type: TYPES[i % TYPES.length]!,
        at: base + Math.floor(i / 4),
        name: `p${String(i).padStart(2, '0')}`,
      }));

      beforeAll(async () => {
        // Two transactions, the second writing the older half: id order differs from time order.
        await writeEvents(
          server,
          specs.filter((_, i) => i >= 30),
        );
        await writeEvents(
          server,
          specs.filter((_, i) => i < 30),
        );
      });

      it('walks all 60 events with limit + before=NextPage: no duplicate, no gap, newest first', async () => {
        const whole = await viewer(server, cookie, { ...window, limit: 500 });
        expect(whole.body.Events.length).toBe(60);
        expect(whole.body.NextPage).toBeNull();
        expectNewestFirst(whole.body.Events);
        expect(new Set(names(whole.body.Events))).toEqual(new Set(specs.map((s) => s.name)));

        for (const limit of [1, 6, 7, 59, 60, 61]) {
          const { events, pages } = await walk(server, cookie, { ...window, limit });
          expect(
            events.map((e) => e.Id),
            `limit ${limit}`,
          ).toEqual(whole.body.Events.map((e) => e.Id));
          expect(pages, `limit ${limit}`).toBe(Math.max(1, Math.ceil(60 / limit)));
        }
      });

      it('pages through the same millisecond across tables without losing a row', async () => {
        // One millisecond holding rows of every table: page size 1 must still see each of them.
        const at = base + 30_000;
        const same: Spec[] = TYPES.flatMap((type, t) =>
          Array.from({ length: 3 }, (_, k) => ({ type, at, name: `ms-${t}-${k}` })),
        );
        await writeEvents(server, same.slice().reverse());
        const params = { from: iso(at), to: iso(at + 1) };
        const { events } = await walk(server, cookie, { ...params, limit: 1 });
        expect(events.length).toBe(15);
        expect(new Set(names(events))).toEqual(new Set(same.map((s) => s.name)));
        expectNewestFirst(events);
        expect(events.map((e) => e.SourceTable)).toEqual(
          [...TABLE_ORDER].reverse().flatMap((table) => [table, table, table]),
        );
        const { events: byTwo } = await walk(server, cookie, { ...params, limit: 2 });
        expect(byTwo.map((e) => e.Id)).toEqual(events.map((e) => e.Id));
      });

      it('keeps a walk stable while newer events arrive between pages', async () => {
        const walked = await walk(server, cookie, { ...window, limit: 8 }, async (page) => {
          await writeEvents(server, [
            { type: 'Login.Failure', at: base + 50_000 + page, name: `late-${page}` },
            { type: 'Access.Object', at: base + 50_000 + page, name: `late-${page}-b` },
          ]);
        });
        // Events newer than the first page belong to a later walk from the top, not to this one.
        const all = names(walked.events);
        expect(new Set(all).size).toBe(all.length);
        expect(all.filter((n) => n.startsWith('late-'))).toEqual([]);
        expect(all.filter((n) => /^p\d\d$/.test(n)).length).toBe(60);
      });

      it('walks every event of the tenant, unfiltered, exactly as one big page lists them', async () => {
        const whole = await viewer(server, cookie, { limit: 500 });
        expect(whole.body.NextPage).toBeNull();
        const { events } = await walk(server, cookie, { limit: 9 });
        expect(events.map((e) => e.Id)).toEqual(whole.body.Events.map((e) => e.Id));
        expect(new Set(events.map((e) => e.Id)).size).toBe(events.length);
      });

      it('applies filters on every page of a walk', async () => {
        const filter = { ...window, eventType: 'Access.*' };
        const whole = await viewer(server, cookie, { ...filter, limit: 500 });
        // 24 of the 60, 6 of the same-millisecond rows, and the late Access.Object rows.
        expect(whole.body.Events.length).toBeGreaterThanOrEqual(24 + 6);
        const { events } = await walk(server, cookie, { ...filter, limit: 5 });
        expect(events.map((e) => e.Id)).toEqual(whole.body.Events.map((e) => e.Id));
        expect(events.every((e) => e.EventType.startsWith('Access.'))).toBe(true);
        expect(names(events).filter((n) => n.startsWith('p')).length).toBe(24);
        expectNewestFirst(events);
      });
    });

    describe('who may read it', () => {
      it('refuses a member with a JSON 403, recorded as an Access.Denied naming the member', async () => {
        const member = await buildUser(server, 'member');
        await withinOneMinuteWindow();
        const res = await viewer(server, member.cookie, { limit: 5 });
        expect(res.status).toBe(403);
        expect(res.body).toEqual({ Error: 'forbidden', Message: expect.any(String) });
        expect(res.text).not.toContain('Events');

        const denied = await viewer(server, cookie, { eventType: 'Access.Denied', actor: member.username });
        expect(denied.status).toBe(200);
        expect(denied.body.Events.length).toBe(1);
        expect(denied.body.Events[0]).toMatchObject({
          EventType: 'Access.Denied',
          Category: 'Access',
          Severity: 'warning',
          Outcome: 'denied',
          SourceTable: 'LogsDenied',
          Actor: { Username: member.username, UserId: expect.any(Number) },
          Target: { Type: 'AdminRoute', Name: expect.stringContaining('/api/admin/audit/events') },
          Ip: '127.0.0.1',
          Controls: ['AC-7', '3.1.8'],
        });
        // Repeats in the same minute are summarized, not lost: the 10th refusal records how many were not.
        for (let i = 0; i < 9; i++) expect((await viewer(server, member.cookie)).status).toBe(403);
        const again = await viewer(server, cookie, { eventType: 'Access.Denied', actor: member.username });
        expect(again.body.Events.length).toBe(2);
        expect(
          again.body.Events.map((e) => Number((e.Details as { suppressed?: number }).suppressed ?? 0)).sort(),
        ).toEqual([0, 8]);
      });

      it('answers 401 without a session, with an unknown one, and after logout', async () => {
        const none = await viewer(server, '');
        expect(none.status).toBe(401);
        expect(none.body).toEqual({ Error: 'unauthenticated', Message: expect.any(String) });
        const forged = await viewer(server, `itp_session=${'f'.repeat(64)}`);
        expect(forged.status).toBe(401);
        expect(forged.body.Error).toBe('unauthenticated');

        const other = await login(server);
        expect((await viewer(server, other, { limit: 1 })).status).toBe(200);
        expect((await http(server, 'POST', '/api/auth/logout', { cookie: other })).status).toBe(204);
        const after = await viewer(server, other, { limit: 1 });
        expect(after.status).toBe(401);
        expect(after.body.Error).toBe('unauthenticated');
      });

      it('does not let a member read the viewer through a filter or a page token either', async () => {
        const member = await buildUser(server, 'member');
        const first = await viewer(server, cookie, { limit: 1 });
        for (const params of [
          { actor: member.username },
          { before: first.body.NextPage! },
          { eventType: 'Login.*' },
        ]) {
          const res = await viewer(server, member.cookie, params);
          expect(res.status).toBe(403);
          expect(res.body.Error).toBe('forbidden');
        }
      });
    });
  });
}
