/**
 * Sequenced envelopes of every event type whose values carry what breaks text formats: `|`, `\`, `=`,
 * line breaks, `"`, `]`, the LEEF delimiter (tab), spaces before `key=`-looking words, and unicode
 * (accents, CJK, an emoji outside the BMP).
 */
import { EVENT_TYPE_LIST } from '../../src/modules/audit/event-types.js';
import type { PresentContext, WireEvent } from '../../src/modules/feed/presenters/presenter.js';

export const NASTY = 'pipe| back\\slash eq= a b=c nl\nline cr\rx "quote" ]bracket\ttab é日本😀';

/** The SPEC §2 example envelope, sequenced at Seq 12: the plain case every presenter test starts from. */
export const SPEC_LOGIN: WireEvent = {
  Id: 'LogsLogin:43383',
  Timestamp: '2026-04-25T13:41:31.863Z',
  EventType: 'Login.Success',
  Category: 'Authentication',
  Severity: 'info',
  Outcome: 'success',
  SourceTable: 'LogsLogin',
  Actor: { UserId: 1088, Username: 'admin', ClientId: null },
  Target: { Type: 'Session', Id: null, Name: null },
  Ip: '10.0.0.42',
  UserAgent: 'Mozilla/5.0',
  Controls: ['AU-2', '3.3.1'],
  Details: { logType: 'LOGIN' },
  Seq: 12,
};

export const CONTEXT: PresentContext = { tenantId: 7, host: 'portal.example.test', productVersion: '0.1.0' };

const SEVERITIES = ['info', 'warning', 'critical'] as const;
const OUTCOMES = ['success', 'denied', 'failure'] as const;

export function adversarialEvents(): WireEvent[] {
  return EVENT_TYPE_LIST.map((info, i) => ({
    Id: `${info.source}:${100 + i}`,
    Timestamp: new Date(Date.UTC(2026, 3, 25, 13, 41, 31, 863) + i * 1001).toISOString(),
    EventType: info.type,
    Category: info.category,
    Severity: SEVERITIES[i % 3]!,
    Outcome: OUTCOMES[i % 3]!,
    SourceTable: info.source,
    Actor: {
      UserId: 1000 + i,
      Username: `user ${NASTY}`,
      ClientId: i % 2 ? `client=${i}|${NASTY}` : null,
    },
    Target: {
      Type: i === 6 ? 'User' : 'Document',
      Id: `id\\${i}=x`,
      Name: `name ${NASTY}`,
    },
    Ip: i % 2 ? '2001:db8::42' : '192.0.2.17',
    UserAgent: `Agent/1.0 (${NASTY})`,
    Controls: [...info.controls],
    Details: { note: NASTY, nested: { k: 'v=1|2' }, n: i },
    Seq: 40 + i,
  }));
}
