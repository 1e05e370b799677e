import { describe, expect, it } from 'vitest';
import { presentEvent, presentEventJson } from './feed-presenter.js';
import type { StoredEvent } from './feed-store.js';

const base: StoredEvent = {
  source: 'LogsLogin',
  id: 43383,
  txid: 812,
  createdAt: Date.UTC(2026, 3, 25, 13, 41, 31, 863),
  eventType: 'Login.Success',
  severity: 'info',
  outcome: 'success',
  userId: 1088,
  username: 'admin',
  clientId: null,
  targetType: 'Session',
  targetId: null,
  targetName: null,
  ip: '10.0.0.42',
  userAgent: 'Mozilla/5.0 "quoted" \\ back\nslash \u2028 ünï',
  details: JSON.stringify({ logType: 'LOGIN', nested: { a: [1, 'b', null] } }),
};

const cases: Array<[string, StoredEvent]> = [
  ['a login', base],
  [
    'a reveal',
    {
      ...base,
      source: 'LogsAccess',
      eventType: 'Access.Object',
      severity: 'warning',
      targetType: 'Password',
      targetId: '7',
      targetName: 'Fire"wall',
    },
  ],
  [
    'a poll record',
    {
      ...base,
      source: 'LogsSiemPoll',
      eventType: 'Audit.SiemPoll',
      userId: null,
      username: null,
      clientId: 'abcdef0123456789',
    },
  ],
  ['no details', { ...base, details: null, ip: null, userAgent: null }],
  ['non-object details', { ...base, details: '[1,2]' }],
  [
    'a legacy row',
    {
      ...base,
      source: 'LogsAdmin',
      eventType: null,
      severity: null,
      outcome: null,
      details: null,
      legacy: { action: 'X', message: 'm "q"' },
    },
  ],
];

describe('presentEventJson', () => {
  it.each(cases)('writes exactly the envelope of presentEvent for %s', (_name, e) => {
    const text = presentEventJson(e);
    expect(JSON.parse(text)).toEqual(presentEvent(e));
    expect(text).toBe(JSON.stringify(presentEvent(e)));
  });
});
