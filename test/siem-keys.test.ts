/** SIEM keys over HTTP on every store: format, storage, CIDRs, revocation on every node, poll history. */
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CompiledQuery, sql } from 'kysely';
import { refusalsQuery } from '../src/modules/siem-keys/siem-key-store.js';
import { buildKey, buildUser, drain, http, login, poll, rawRequest } from './factories.js';
import { startServer, type TestServer } from './harness.js';
import { STORES, createTestDatabase, type TestDatabase } from './stores.js';

for (const kind of STORES) {
  describe(`SIEM keys on ${kind}`, () => {
    let testDb: TestDatabase;
    let server: TestServer;
    let second: TestServer;
    let cookie: string;

    beforeAll(async () => {
      testDb = await createTestDatabase(kind);
      server = await startServer(testDb);
      second = await startServer(testDb);
      cookie = await login(server);
    });
    afterAll(async () => {
      await second?.close();
      await server?.close();
      await testDb?.drop();
    });

    it('lists how far each key has read the trail: last Seq delivered, lag in events and time, never backwards', async () => {
      const { id, key } = await buildKey(server, cookie, { description: 'lag probe' });
      // The lag counts sequenced events: sequence the key's own PolicyChange and the logins now.
      const tenantId = await server.ctx.tenants.defaultTenantId(Date.now());
      await server.ctx.sequencer.catchUp(tenantId, 'trail');
      const listed = async () => {
        const res = await http(server, 'GET', '/api/admin/siem/keys', { cookie });
        expect(res.status).toBe(200);
        return (res.body as Array<Record<string, any>>).find((k) => k.id === id)!;
      };
      const fresh = await listed();
      expect(fresh).toMatchObject({ deliveredThroughSeq: null, deliveredAt: null, lagSeconds: null });
      expect(fresh.lagEvents).toBeGreaterThanOrEqual(2);
      const page = await poll(server, key, { limit: 1 });
      expect(page.body.HasMore).toBe(true);
      const partial = await listed();
      expect(partial.deliveredThroughSeq).toBe(page.body.Events[0]!.Seq);
      expect(partial.lagEvents).toBeGreaterThanOrEqual(1);
      expect(partial.lagSeconds).toEqual(expect.any(Number));
      expect(Date.parse(partial.deliveredAt)).not.toBeNaN();
      const all = await drain(second, key, { cursor: page.body.NextCursor });
      const caughtUp = await listed();
      expect(caughtUp.deliveredThroughSeq).toBe(all.events[all.events.length - 1]!.Seq);
      expect(caughtUp).toMatchObject({ lagEvents: 0, lagSeconds: 0 });
      // A retried first page (an older cursor) delivers nothing new: the mark stays.
      await poll(server, key, { limit: 1 });
      expect((await listed()).deliveredThroughSeq).toBe(caughtUp.deliveredThroughSeq);
    });

    it('issues itp_siem_<id>_<256-bit secret>, stores only its hash, never lists the secret', async () => {
      const res = await http(server, 'POST', '/api/admin/siem/keys', {
        cookie,
        body: { description: 'Splunk prod', allowedCidrs: '10.0.0.0/24, 2001:db8::/32' },
      });
      expect(res.status).toBe(201);
      const { key, id } = res.body;
      const m = /^itp_siem_([0-9a-f]{16})_([0-9a-f]{64})$/.exec(key);
      expect(m).not.toBeNull();
      expect(m![1]).toBe(id);
      const secret = m![2]!;
      expect(res.body).toMatchObject({
        description: 'Splunk prod',
        allowedCidrs: '10.0.0.0/24, 2001:db8::/32',
        status: 'active',
        createdBy: 'admin',
      });

      const rows = await server.database.db.selectFrom('siem_keys').selectAll().execute();
      const stored = JSON.stringify(rows);
      expect(stored).not.toContain(secret);
      const row = rows.find((r) => r.id === id)!;
      expect(row.secret_hash).toBe(crypto.createHash('sha256').update(secret).digest('hex'));

      const list = await http(server, 'GET', '/api/admin/siem/keys', { cookie });
      expect(list.status).toBe(200);
      expect(list.text).not.toContain(secret);
      const listed = list.body.find((k: any) => k.id === id);
      expect(Object.keys(listed).sort()).toEqual(
        [
          'allowedCidrs',
          'createdAt',
          'createdBy',
          'description',
          'id',
          'keyPrefix',
          'lastUsedAt',
          'lastUsedFrom',
          'deliveredThroughSeq',
          'deliveredAt',
          'lagEvents',
          'lagSeconds',
          'revokedAt',
          'revokedBy',
          'status',
        ].sort(),
      );
    });

    it('refuses bad descriptions and names the bad CIDR entry', async () => {
      const bad = [
        [{ description: '' }, 'description'],
        [{ description: 'x'.repeat(201) }, 'description'],
        [{ description: 'ok', allowedCidrs: '10.0.0.0/24, 10.0.0.0/33' }, '10.0.0.0/33'],
        [{ description: 'ok', allowedCidrs: 'not-an-ip' }, 'not-an-ip'],
        [{ description: 'ok', allowedCidrs: '2001:db8::/129' }, '2001:db8::/129'],
      ] as const;
      for (const [body, named] of bad) {
        const res = await http(server, 'POST', '/api/admin/siem/keys', { cookie, body });
        expect(res.status, JSON.stringify(body)).toBe(400);
        expect(res.body.Message).toContain(named);
      }
    });

    it('enforces Allowed CIDRs on the socket peer (IPv4 and IPv6 entries)', async () => {
      const allowed = await buildKey(server, cookie, { description: 'local', allowedCidrs: '127.0.0.0/8' });
      const v6only = await buildKey(server, cookie, { description: 'v6 only', allowedCidrs: '::1/128' });
      expect((await poll(server, allowed.key, { limit: 1 })).status).toBe(200);
      expect((await poll(server, v6only.key, { limit: 1 })).status).toBe(401);
    });

    it('records issue and revoke as critical PolicyChange/SiemKey with before and after', async () => {
      const reader = await buildKey(server, cookie, { description: 'reader' });
      const target = await buildKey(server, cookie, { description: 'short-lived' });
      const del = await http(server, 'DELETE', `/api/admin/siem/keys/${target.id}`, { cookie });
      expect(del.status).toBe(200);
      expect(del.body).toMatchObject({ status: 'revoked', revokedBy: 'admin' });
      const { events } = await drain(server, reader.key, { eventType: 'PolicyChange' });
      const mine = events.filter((e) => e.Target.Id === target.id);
      expect(mine.map((e) => e.Details.action)).toEqual(['siem_key.issued', 'siem_key.revoked']);
      for (const e of mine) {
        expect(e).toMatchObject({
          Severity: 'critical',
          Outcome: 'success',
          Target: { Type: 'SiemKey', Name: 'short-lived' },
          Actor: { Username: 'admin' },
        });
        expect(e.Controls).toEqual(['AC-2', 'IA-5']);
      }
      expect(mine[1]!.Details.before.status).toBe('active');
      expect(mine[1]!.Details.after.status).toBe('revoked');
      // revoking again changes nothing and records nothing
      await http(server, 'DELETE', `/api/admin/siem/keys/${target.id}`, { cookie });
      const again = await drain(server, reader.key, { eventType: 'PolicyChange' });
      expect(again.events.filter((e) => e.Target.Id === target.id).length).toBe(2);
    });

    it('makes a revocation effective on the very next request on another node', async () => {
      const k = await buildKey(server, cookie, { description: 'two nodes' });
      expect((await poll(second, k.key, { limit: 1 })).status).toBe(200);
      expect((await http(server, 'DELETE', `/api/admin/siem/keys/${k.id}`, { cookie })).status).toBe(200);
      const refused = await poll(second, k.key, { limit: 1 });
      expect(refused.status).toBe(401);
    });

    it('keeps last used at/from and the poll history (audit of the audit)', async () => {
      const k = await buildKey(server, cookie, { description: 'history' });
      const first = await poll(server, k.key, { limit: 3 });
      await poll(
        second,
        k.key,
        { cursor: first.body.NextCursor, limit: 2, eventType: 'Login.*', format: 'cef' },
        { 'user-agent': 'splunk-ta/1.0' },
      );
      const list = await http(server, 'GET', '/api/admin/siem/keys', { cookie });
      const listed = list.body.find((x: any) => x.id === k.id);
      expect(listed.lastUsedFrom).toBe('127.0.0.1');
      expect(Date.parse(listed.lastUsedAt)).toBeGreaterThan(Date.now() - 60_000);
      const polls = await http(server, 'GET', `/api/admin/siem/keys/${k.id}/polls`, { cookie });
      expect(polls.status).toBe(200);
      expect(polls.body.length).toBe(2);
      const [latest, earliest] = polls.body;
      expect(latest).toMatchObject({
        ip: '127.0.0.1',
        userAgent: 'splunk-ta/1.0',
        filter: 'Login.*',
        format: 'cef',
        cursorIn: first.body.NextCursor,
      });
      expect(earliest).toMatchObject({
        format: 'json',
        eventCount: 3,
        cursorIn: null,
        cursorOut: first.body.NextCursor,
        hasMore: true,
      });
      expect(typeof earliest.durationMs).toBe('number');
      const unknown = await http(server, 'GET', '/api/admin/siem/keys/0123456789abcdef/polls', { cookie });
      expect(unknown.status).toBe(404);
    });

    it('pages the poll history by keyset, totals unique vs re-read events from Seq ranges, lists refusals', async () => {
      const k = await buildKey(server, cookie, { description: 'totals' });
      const other = await buildKey(server, cookie, { description: 'totals, other key' });
      for (let i = 0; i < 4; i++) await login(server);
      await server.ctx.sequencer.catchUp(await server.ctx.tenants.defaultTenantId(Date.now()), 'trail');
      const first = await poll(server, k.key, { limit: 3 });
      expect(first.body.Events.length).toBe(3);
      // No cursor again: the same three events, served again (re-read).
      const again = await poll(server, k.key, { limit: 3 });
      expect(again.body.Events.map((e) => e.Seq)).toEqual(first.body.Events.map((e) => e.Seq));
      const next = await poll(server, k.key, { cursor: first.body.NextCursor, limit: 2 });
      expect(next.body.Events.length).toBe(2);
      // A retried cursor: its one event was delivered by `next` already.
      const retried = await poll(server, k.key, { cursor: first.body.NextCursor, limit: 1 });
      expect(retried.body.Events.length).toBe(1);
      expect((await poll(server, other.key, { limit: 2 })).status).toBe(200);

      const totals = await http(server, 'GET', `/api/admin/siem/keys/${k.id}/totals`, { cookie });
      expect(totals.status).toBe(200);
      expect(totals.body).toMatchObject({ polls: 4, eventsDelivered: 9, reReadEvents: 4, uniqueEvents: 5 });
      expect(Date.parse(totals.body.lastPollAt)).toBeGreaterThanOrEqual(Date.parse(totals.body.firstPollAt));

      const all = await http(server, 'GET', `/api/admin/siem/keys/${k.id}/polls?limit=500`, { cookie });
      expect(all.body.length).toBe(4);
      expect(all.body[3]).toMatchObject({
        log: 'trail',
        firstSeq: first.body.Events[0]!.Seq,
        lastSeq: first.body.Events[2]!.Seq,
      });
      const numeric = (id: string) => Number(id.split(':')[1]);
      const page1 = await http(server, 'GET', `/api/admin/siem/keys/${k.id}/polls?limit=3`, { cookie });
      expect(page1.body.map((p: any) => p.id)).toEqual(all.body.slice(0, 3).map((p: any) => p.id));
      const before = numeric(page1.body[2].id);
      const page2 = await http(server, 'GET', `/api/admin/siem/keys/${k.id}/polls?limit=3&before=${before}`, {
        cookie,
      });
      expect(page2.body.map((p: any) => p.id)).toEqual([all.body[3].id]);
      const bad = await http(server, 'GET', `/api/admin/siem/keys/${k.id}/polls?before=x`, { cookie });
      expect(bad.status).toBe(400);
      expect(bad.body.Error).toBeTruthy();

      const wrong = `${k.key.slice(0, -1)}${k.key.endsWith('a') ? 'b' : 'a'}`;
      expect((await poll(server, wrong, { limit: 1 })).status).toBe(401);
      const refusals = await http(server, 'GET', `/api/admin/siem/keys/${k.id}/refusals`, { cookie });
      expect(refusals.status).toBe(200);
      expect(refusals.body).toHaveLength(1);
      expect(refusals.body[0]).toMatchObject({ reason: 'bad_secret', ip: '127.0.0.1', suppressed: 0 });
      const none = await http(server, 'GET', `/api/admin/siem/keys/${other.id}/refusals`, { cookie });
      expect(none.body).toEqual([]);
      const missing = await http(server, 'GET', '/api/admin/siem/keys/0123456789abcdef/totals', { cookie });
      expect(missing.status).toBe(404);
    });

    it("reads a key's refusals by their index (migration 0006), not by a scan of the tenant's denials", async () => {
      const compiled = refusalsQuery(server.database.db, 1, '0123456789abcdef', 50).compile();
      const plan =
        kind === 'postgres'
          ? await server.database.db.transaction().execute(async (trx) => {
              // Tables this small are read whole by choice: make the planner show the index it has.
              await sql`set local enable_seqscan = off`.execute(trx);
              const { rows } = await trx.executeQuery(
                CompiledQuery.raw(`explain ${compiled.sql}`, [...compiled.parameters]),
              );
              return JSON.stringify(rows);
            })
          : JSON.stringify(
              (
                await server.database.db.executeQuery(
                  CompiledQuery.raw(`explain query plan ${compiled.sql}`, [...compiled.parameters]),
                )
              ).rows,
            );
      expect(plan).toContain('logs_denied_client');
    });

    it('refuses members (403 + Access.Denied naming the user) and anonymous callers (401)', async () => {
      const reader = await buildKey(server, cookie, { description: 'reader2' });
      const member = await buildUser(server, 'member');
      for (const [method, path] of [
        ['GET', '/api/admin/siem/keys'],
        ['POST', '/api/admin/siem/keys'],
        ['DELETE', `/api/admin/siem/keys/${reader.id}`],
      ] as const) {
        const body = method === 'POST' ? { description: 'nope' } : undefined;
        const res = await http(server, method, path, { cookie: member.cookie, body });
        expect(res.status, path).toBe(403);
        expect(res.body.Error).toBe('forbidden');
        const anon = await http(server, method, path, { body });
        expect(anon.status, path).toBe(401);
        // authentication comes before validation: a malformed anonymous request learns nothing
        const anonBad = await http(server, method, path.replace(reader.id, 'zz'), {
          body: method === 'GET' ? undefined : { bogus: 1 },
        });
        expect(anonBad.status, path).toBe(401);
      }
      expect((await poll(server, reader.key, { limit: 1 })).status).toBe(200);
      const { events } = await drain(server, reader.key, { eventType: 'Access.Denied' });
      const denials = events.filter((e) => e.Actor.Username === member.username);
      expect(denials.length).toBe(3);
      expect(denials[0]).toMatchObject({
        Outcome: 'denied',
        Severity: 'warning',
        Target: { Type: 'AdminRoute' },
      });
    });

    it("never lets a key read another tenant's portal", async () => {
      const b = await server.ctx.tenants.createTenant('Tenant B', [`b-${kind}.example.test`], Date.now());
      await server.ctx.users.createUser({
        tenantId: b.id,
        username: 'badmin',
        password: 'tenant-b-password',
        role: 'admin',
        actor: { userId: null, username: 'test', ip: null, userAgent: null },
      });
      const host = `b-${kind}.example.test`;
      const loginB = await rawRequest(`${server.url}/api/auth/login`, {
        method: 'POST',
        headers: { host, 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'badmin', password: 'tenant-b-password' }),
      });
      expect(loginB.status).toBe(200);
      const cookieB = String(loginB.headers['set-cookie']).split(';')[0]!;
      // Tenant B's session does not open tenant A's admin API.
      expect((await http(server, 'GET', '/api/admin/siem/keys', { cookie: cookieB })).status).toBe(401);
      const issued = await rawRequest(`${server.url}/api/admin/siem/keys`, {
        method: 'POST',
        headers: { host, 'content-type': 'application/json', cookie: cookieB },
        body: JSON.stringify({ description: 'B key' }),
      });
      expect(issued.status).toBe(201);
      // B's key on A's host: 401. On B's host: only B's events.
      expect((await poll(server, issued.body.key, { limit: 1 })).status).toBe(401);
      const feedB = await rawRequest(`${server.url}/api/siem/events`, {
        headers: { host, authorization: `ApiKey ${issued.body.key}` },
      });
      expect(feedB.status).toBe(200);
      expect(feedB.body.Events.length).toBeGreaterThan(0);
      // Tenant A's admin signed in and issued keys here; none of that shows in B's feed.
      for (const e of feedB.body.Events) expect(e.Actor.Username).not.toBe('admin');
      expect(feedB.body.Events.some((e: any) => e.Actor.Username === 'badmin')).toBe(true);
      // A's admin cannot revoke B's key by id.
      expect(
        (await http(server, 'DELETE', `/api/admin/siem/keys/${issued.body.id}`, { cookie })).status,
      ).toBe(404);
    });
  });
}
