import { describe, expect, it } from 'vitest';
import { presentEvent } from './feed-presenter.js';
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
  userAgent: 'Mozilla/5.0',
  details: JSON.stringify({ logType: 'LOGIN' }),
};

describe('presentEvent', () => {
  it('writes the SPEC §2 example envelope', () => {
    expect(presentEvent(base)).toEqual({
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
    });
  });

  it('surfaces a legacy row as AdminAction / info / success with its raw fields', () => {
    const e = presentEvent({
      ...base,
      source: 'LogsAdmin',
      eventType: null,
      severity: null,
      outcome: null,
      details: null,
      legacy: { action: 'X', message: 'm' },
    });
    expect(e).toMatchObject({
      EventType: 'AdminAction',
      Category: 'Admin',
      Severity: 'info',
      Outcome: 'success',
      Controls: ['AU-2'],
    });
    expect(e.Details).toMatchObject({ action: 'X', message: 'm', userId: 1088, legacy: true });
  });

  it('falls back to the registry severity, and to {} for details that are not an object', () => {
    expect(presentEvent({ ...base, eventType: 'Login.Failure', severity: null }).Severity).toBe('warning');
    expect(presentEvent({ ...base, details: '[1,2]' }).Details).toEqual({});
    expect(presentEvent({ ...base, details: 'not json' }).Details).toEqual({});
  });
});
