/**
 * The text wire formats end to end, on every store: a real server records events of every type (with
 * values that break naive text formats), the sequenced feed is drained over HTTP as JSON, and each
 * envelope (with its Seq) is presented as CEF, LEEF 2.0 and RFC 5424 syslog and read back by the real
 * parsers: liblognorm and nsyslog-parser (CEF), the strict LEEF 2.0 parser, nsyslog-parser and a
 * private rsyslogd over TCP (syslog). Id, Seq, type, outcome and time must survive every one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_TYPE_LIST } from '../src/modules/audit/event-types.js';
import { presentCef } from '../src/modules/feed/presenters/cef.js';
import { presentLeef } from '../src/modules/feed/presenters/leef.js';
import type { PresentContext, WireEvent } from '../src/modules/feed/presenters/presenter.js';
import { presentSyslog } from '../src/modules/feed/presenters/syslog.js';
import { buildKey, buildUser, drain, http, login } from './factories.js';
import { startServer, type TestServer } from './harness.js';
import { STORES, createTestDatabase, type TestDatabase } from './stores.js';
import { parseLeef2 } from './wire/leef-parser.js';
import { lognormalizeCef, nsyslogMsg, nsyslogParse, rsyslogReceive } from './wire/text-parsers.js';

/** What a text format must not break on; ASCII only where it goes through an HTTP header. */
const NASTY = 'p|pe b\\s eq= k=v "q" ]b\ttab\nnl é日本😀';
const NASTY_HEADER = 'Agent|x\\y=z "q" ]b';

for (const kind of STORES) {
  describe(`text wire formats on ${kind}`, () => {
    let testDb: TestDatabase;
    let server: TestServer;
    let events: WireEvent[];
    let ctx: PresentContext;

    beforeAll(async () => {
      testDb = await createTestDatabase(kind);
      server = await startServer(testDb);
      const ua = { 'user-agent': NASTY_HEADER };
      const cookie = await login(server);
      const key = (await buildKey(server, cookie, { description: `reader ${NASTY}` })).key;
      // Login.Success, Login.Logout, Login.Failure
      const member = await buildUser(server, 'member', 'wire-member');
      await http(server, 'POST', '/api/auth/logout', { cookie: member.cookie, headers: ua });
      await http(server, 'POST', '/api/auth/login', {
        body: { username: `ghost ${NASTY}`, password: 'wrong' },
        headers: ua,
      });
      // Access.Object on a company whose name breaks text formats
      const company = await http(server, 'POST', '/api/companies', { cookie, body: { name: `Co ${NASTY}` } });
      expect(company.status).toBe(201);
      await http(server, 'GET', `/api/companies/${company.body.id}`, { cookie, headers: ua });
      // PolicyChange (GlobalAcl), then Access.Denied for the member
      const acl = { member: { companies: 'none', documents: 'read', passwords: 'none' } };
      expect((await http(server, 'PUT', '/api/admin/settings/acl', { cookie, body: acl })).status).toBe(200);
      const again = await login(server, member.username, member.password);
      const refused = await http(server, 'GET', `/api/companies/${company.body.id}`, {
        cookie: again,
        headers: ua,
      });
      expect(refused.status).toBe(403);
      // AdminAction
      const created = await http(server, 'POST', '/api/admin/users', {
        cookie,
        body: { username: 'wire-dave', password: 'wire-dave-password', role: 'member' },
      });
      expect(created.status).toBe(201);
      // Audit.SiemPoll: the polls themselves, asked for by name
      const all = (await drain(server, key)).events;
      const polls = (await drain(server, key, { eventType: 'Audit.SiemPoll' })).events;
      events = [...all, ...polls] as WireEvent[];
      ctx = {
        tenantId: await server.ctx.tenants.defaultTenantId(Date.now()),
        host: new URL(server.url).hostname,
        productVersion: '0.1.0',
      };
    });
    afterAll(async () => {
      await server?.close();
      await testDb?.drop();
    });

    it('recorded every event type, each with its Seq, some with values that break text formats', () => {
      expect(new Set(events.map((e) => e.EventType))).toEqual(new Set(EVENT_TYPE_LIST.map((t) => t.type)));
      for (const e of events) expect(Number.isInteger(e.Seq)).toBe(true);
      const text = JSON.stringify(events);
      expect(text).toContain(JSON.stringify(`Co ${NASTY}`).slice(1, -1));
      expect(text).toContain(JSON.stringify(NASTY_HEADER).slice(1, -1));
    });

    it('CEF: liblognorm and nsyslog-parser read back Id, Seq, type, outcome and time', async () => {
      const lines = events.map((e) => presentCef(e, ctx));
      const parsed = await lognormalizeCef(lines);
      events.forEach((e, i) => {
        const p = parsed[i]!;
        expect(p.SignatureID).toBe(e.EventType);
        expect(p.Extensions).toMatchObject({
          externalId: e.Id,
          cs4: String(e.Seq),
          cs4Label: 'Seq',
          act: e.EventType,
          outcome: e.Outcome,
          rt: String(Date.parse(e.Timestamp)),
        });
        if (e.Target.Name) expect(p.Extensions.cs3).toBe(e.Target.Name);
        if (e.Actor.Username) expect(p.Extensions.suser).toBe(e.Actor.Username);
        if (e.UserAgent) expect(p.Extensions.requestClientApplication).toBe(e.UserAgent);
        const n = nsyslogParse(lines[i]!);
        expect(n.cef!.deviceEventClassID).toBe(e.EventType);
        expect(n.fields).toMatchObject({
          externalId: e.Id,
          cs4: String(e.Seq),
          act: e.EventType,
          outcome: e.Outcome,
          rt: String(Date.parse(e.Timestamp)),
        });
      });
      expect(parsed.some((p) => p.Extensions.cs3 === `Co ${NASTY}`)).toBe(true);
    });

    it('LEEF 2.0: the strict parser reads back Id, Seq, type, outcome and time', () => {
      for (const e of events) {
        const r = parseLeef2(presentLeef(e, ctx));
        expect(r.eventId).toBe(e.EventType);
        expect(r.devTimeMs).toBe(Date.parse(e.Timestamp));
        expect(r.attributes).toMatchObject({ externalId: e.Id, seq: String(e.Seq), outcome: e.Outcome });
        if (e.Target.Name) expect(r.attributes.targetName).toBe(e.Target.Name.replace(/\r\n|[\r\n]/g, ' '));
      }
    });

    it('syslog: nsyslog-parser and a private rsyslogd read back Id, Seq, type, outcome and time', async () => {
      const records = events.map((e) => presentSyslog(e, ctx));
      for (const [i, e] of events.entries()) {
        const n = nsyslogParse(records[i]!);
        expect([n.type, n.messageid, n.host, n.ts!.toISOString()]).toEqual([
          'RFC5424',
          e.EventType,
          ctx.host,
          e.Timestamp,
        ]);
        expect(JSON.parse(nsyslogMsg(n))).toEqual(e);
      }
      const received = await rsyslogReceive(records);
      expect(received).toHaveLength(events.length);
      events.forEach((e, i) => {
        const r = received[i]!;
        expect([r.msgid, r.timestamp, r.hostname, r.appname]).toEqual([
          e.EventType,
          e.Timestamp,
          ctx.host,
          'itportal',
        ]);
        expect(r.parsed['itportal@32473']).toMatchObject({
          id: e.Id,
          seq: String(e.Seq),
          outcome: e.Outcome,
          tenant: String(ctx.tenantId),
        });
        expect(JSON.parse(r.msg)).toEqual(e);
      });
    });
  });
}
