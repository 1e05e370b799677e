import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EVENT_TYPE_LIST } from '../../audit/event-types.js';
import { adversarialEvents, CONTEXT, SPEC_LOGIN } from '../../../../test/wire/adversarial-events.js';
import {
  nsyslogMsg,
  nsyslogParse,
  rsyslogCheck,
  rsyslogConfig,
  rsyslogReceive,
} from '../../../../test/wire/text-parsers.js';
import type { WireEvent } from './presenter.js';
import { escapeSdValue, presentSyslog, syslogParams, syslogPresenter } from './syslog.js';

const login = SPEC_LOGIN;

const PRI = { critical: 13 * 8 + 2, warning: 13 * 8 + 4, info: 13 * 8 + 6 } as Record<string, number>;
/** SD values carry no control character: each is a space (the exact value is in MSG). */
// eslint-disable-next-line no-control-regex
const flat = (s: string) => s.replace(/[\u0000-\u001f\u007f]/g, ' ');

describe('syslogPresenter', () => {
  it('is the text presenter of format syslog', () => {
    expect(syslogPresenter).toMatchObject({ format: 'syslog', kind: 'text' });
  });

  it('writes the SPEC §2 example as an RFC 5424 record with ASCII JSON as MSG', () => {
    expect(presentSyslog(login, CONTEXT)).toBe(
      '<110>1 2026-04-25T13:41:31.863Z portal.example.test itportal - Login.Success ' +
        '[itportal@32473 id="LogsLogin:43383" seq="12" tenant="7" eventType="Login.Success" ' +
        'category="Authentication" severity="info" outcome="success" sourceTable="LogsLogin" ' +
        'userId="1088" username="admin" ip="10.0.0.42" targetType="Session"] ' +
        JSON.stringify(login),
    );
    expect(presentSyslog({ ...login, Severity: 'critical' }, { ...CONTEXT, host: '' })).toMatch(
      /^<106>1 \S+ - itportal - Login\.Success \[/,
    );
  });

  it('escapes ", \\ and ] in PARAM-VALUE and nothing else; MSG is ASCII and exact', () => {
    expect(escapeSdValue('a"b\\c]d|e=f é')).toBe('a\\"b\\\\c\\]d|e=f é');
    expect(escapeSdValue('line\nbreak\ttab\r')).toBe('line break tab ');
    for (const e of adversarialEvents()) {
      const record = presentSyslog(e, CONTEXT);
      expect(record).not.toMatch(/[\r\n]/);
      const msg = record.slice(record.indexOf('"] ') + 3);
      expect(msg).toMatch(/^[\x20-\x7e]+$/);
      expect(JSON.parse(msg)).toEqual(e);
    }
  });

  it('parses every event type with nsyslog-parser (header, MSG; SD only without \\")', () => {
    for (const e of adversarialEvents()) {
      const entry = nsyslogParse(presentSyslog(e, CONTEXT));
      expect(entry).toMatchObject({
        type: 'RFC5424',
        version: 1,
        prival: PRI[e.Severity],
        facilityval: 13,
        host: CONTEXT.host,
        appName: 'itportal',
        pid: '-',
        messageid: e.EventType,
      });
      expect(entry.ts!.toISOString()).toBe(e.Timestamp);
      // nsyslog-parser's known bug: it reads a PARAM-VALUE up to the next `"`, escaped or not, so it
      // gives up on this SD; its message is SD and MSG, and MSG is the exact envelope.
      expect(entry.structuredData).toEqual([]);
      expect(JSON.parse(nsyslogMsg(entry))).toEqual(e);
      // the same event with plain values: nsyslog-parser reads the structured data too
      const plain: WireEvent = {
        ...e,
        Actor: { ...e.Actor, Username: 'alice', ClientId: null },
        Target: { Type: 'Document', Id: '9', Name: 'Runbook' },
        UserAgent: null,
      };
      const sd = nsyslogParse(presentSyslog(plain, CONTEXT)).structuredData!;
      expect(sd).toHaveLength(1);
      expect(sd[0]).toMatchObject({
        $id: 'itportal@32473',
        id: e.Id,
        seq: String(e.Seq),
        tenant: String(CONTEXT.tenantId),
        outcome: e.Outcome,
        severity: e.Severity,
        eventType: e.EventType,
        username: 'alice',
        targetName: 'Runbook',
      });
    }
  });

  it('has an rsyslog configuration that rsyslogd -N1 accepts (and one it refuses)', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'itp-rsyslog-conf-'));
    try {
      const good = path.join(dir, 'good.conf');
      await fs.writeFile(good, rsyslogConfig(dir, 10514));
      const ok = await rsyslogCheck(good);
      expect(ok.out).toContain('End of config validation run');
      expect(ok.code).toBe(0);
      const bad = path.join(dir, 'bad.conf');
      await fs.writeFile(bad, rsyslogConfig(dir, 10514).replace('mmpstrucdata"', 'mmnosuchmodule"'));
      expect((await rsyslogCheck(bad)).code).not.toBe(0);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('every event type sent over TCP (octet counting) comes back whole from a private rsyslogd', async () => {
    const events = adversarialEvents();
    expect(events.map((e) => e.EventType)).toEqual(EVENT_TYPE_LIST.map((t) => t.type));
    const received = await rsyslogReceive(events.map((e) => presentSyslog(e, CONTEXT)));
    expect(received).toHaveLength(events.length);
    events.forEach((e, i) => {
      const r = received[i]!;
      expect(r).toMatchObject({
        pri: String(PRI[e.Severity]),
        timestamp: e.Timestamp,
        hostname: CONTEXT.host,
        appname: 'itportal',
        procid: '-',
        msgid: e.EventType,
      });
      expect(JSON.parse(r.msg)).toEqual(e);
      const sd = r.parsed['itportal@32473']!;
      expect(sd).toEqual(Object.fromEntries(syslogParams(e, CONTEXT).map(([k, v]) => [k, flat(v)])));
      expect(sd).toMatchObject({
        id: e.Id,
        seq: String(e.Seq),
        tenant: String(CONTEXT.tenantId),
        outcome: e.Outcome,
        severity: e.Severity,
        username: flat(e.Actor.Username!),
        targetName: flat(e.Target.Name!),
        targetId: e.Target.Id,
      });
      expect(sd.username).toContain('"quote" ]bracket');
    });
  });
});
