import { describe, expect, it } from 'vitest';
import { EVENT_TYPE_LIST } from '../../audit/event-types.js';
import { adversarialEvents, CONTEXT, NASTY, SPEC_LOGIN } from '../../../../test/wire/adversarial-events.js';
import { parseLeef2 } from '../../../../test/wire/leef-parser.js';
import { leefDelimiter, leefPresenter, leefValue, presentLeef } from './leef.js';

const login = SPEC_LOGIN;

/** A LEEF event is one line: line breaks in a value are written as a space (a tab is kept). */
const flat = (s: string) => s.replace(/\r\n|[\r\n]/g, ' ');

describe('leefPresenter', () => {
  it('is the text presenter of format leef', () => {
    expect(leefPresenter).toMatchObject({ format: 'leef', kind: 'text' });
  });

  it('writes the SPEC §2 example as a LEEF 2.0 line, tab-delimited and named x09', () => {
    expect(presentLeef(login, CONTEXT)).toBe(
      [
        'LEEF:2.0|IT Portal|IT Portal|0.1.0|Login.Success|x09|devTime=2026-04-25T13:41:31.863Z',
        "devTimeFormat=yyyy-MM-dd'T'HH:mm:ss.SSSX",
        'cat=Authentication',
        'sev=3',
        'externalId=LogsLogin:43383',
        'seq=12',
        'outcome=success',
        'sourceTable=LogsLogin',
        'identSrc=10.0.0.42',
        'src=10.0.0.42',
        'usrName=admin',
        'userId=1088',
        'userAgent=Mozilla/5.0',
        'targetType=Session',
        'controls=AU-2,3.3.1',
        'tenant=7',
        'dvchost=portal.example.test',
        'details={"logType":"LOGIN"}',
      ].join('\t'),
    );
  });

  it('passes the strict LEEF 2.0 parser for every event type with | \\ = line breaks " ] tab unicode', () => {
    const events = adversarialEvents();
    expect(events.map((e) => e.EventType)).toEqual(EVENT_TYPE_LIST.map((t) => t.type));
    for (const e of events) {
      const r = parseLeef2(presentLeef(e, CONTEXT));
      expect([r.vendor, r.product, r.productVersion, r.eventId, r.delimiter]).toEqual([
        'IT Portal',
        'IT Portal',
        CONTEXT.productVersion,
        e.EventType,
        // Their values hold a tab, so the event is delimited by the first candidate none holds.
        '^',
      ]);
      expect(r.devTimeMs).toBe(Date.parse(e.Timestamp));
      const a = r.attributes;
      expect(a).toMatchObject({
        externalId: e.Id,
        seq: String(e.Seq),
        cat: e.Category,
        outcome: e.Outcome,
        sev: String({ info: 3, warning: 6, critical: 9 }[e.Severity]),
        src: e.Ip,
        identSrc: e.Ip,
        usrName: flat(e.Actor.Username!),
        targetName: flat(e.Target.Name!),
        targetId: e.Target.Id,
        userAgent: flat(e.UserAgent!),
        tenant: String(CONTEXT.tenantId),
      });
      // `|`, `=`, `\`, `"`, `]`, tab and unicode are kept; only line breaks are not
      expect(a.usrName).toContain('pipe| back\\slash eq= a b=c nl line cr x "quote" ]bracket\ttab é日本😀');
      expect(a.clientId).toBe(e.Actor.ClientId ? flat(e.Actor.ClientId) : undefined);
      expect(JSON.parse(a.details!)).toEqual(e.Details);
      expect(JSON.parse(a.details!).note).toBe(NASTY);
    }
  });

  it('keeps the header free of pipes and line breaks', () => {
    const r = parseLeef2(presentLeef(login, { ...CONTEXT, productVersion: '1|2\n3' }));
    expect(r.productVersion).toBe('1 2 3');
    expect(leefValue('a\tb')).toBe('a b');
    expect(leefValue('a\tb', '^')).toBe('a\tb');
    expect(leefValue('a^b', '^')).toBe('a b');
    expect(leefValue('a\r\nb\nc')).toBe('a b c');
    expect(r.eventId).toBe('Login.Success');
    expect(parseLeef2(presentLeef({ ...login, Severity: 'critical' }, CONTEXT)).attributes.sev).toBe('9');
  });
});

describe('leefDelimiter', () => {
  it('keeps tab unless a value holds one, then takes the first candidate no value holds', () => {
    expect(leefDelimiter(['a', 'b^c'])).toEqual(['\t', 'x09']);
    expect(leefDelimiter(['a\tb'])).toEqual(['^', '^']);
    expect(leefDelimiter(['a\tb', 'c^d'])).toEqual(['\x1f', 'x1F']);
    const r = parseLeef2(presentLeef({ ...login, Actor: { ...login.Actor, Username: 'a\tb^c' } }, CONTEXT));
    expect(r.delimiter).toBe('\x1f');
    expect(r.attributes.usrName).toBe('a\tb^c');
  });
});
