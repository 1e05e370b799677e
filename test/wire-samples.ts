/**
 * Sequenced events of every EventType, for the presenters' unit tests: as the log stores them (the
 * leaf) and as a presenter receives them (the envelope with Seq). They include a legacy row, an event
 * with no user, no address and no user agent, and values with the characters wire formats escape
 * (`|`, `\`, `=`, `"`, `]`, newlines, unicode).
 */
import { EVENT_TYPE_LIST } from '../src/modules/audit/event-types.js';
import { leafOf, wireOfLeaf } from '../src/modules/log/log-leaf.js';
import type { StoredEvent } from '../src/modules/feed/feed-store.js';
import type { WireEvent } from '../src/modules/feed/presenters/presenter.js';

export const SAMPLE_CONTEXT = { tenantId: 3, host: 'portal.example.com', productVersion: '0.1.0' };

export const ADVERSARIAL = 'a|b\\c=d "q" ]x\r\nnext line é 日本 🔐';

function stored(over: Partial<StoredEvent>): StoredEvent {
  return {
    source: 'LogsLogin',
    id: 1,
    txid: 1,
    createdAt: Date.UTC(2026, 3, 25, 13, 41, 31, 863),
    eventType: 'Login.Success',
    severity: null,
    outcome: 'success',
    userId: 1088,
    username: 'admin',
    clientId: null,
    targetType: 'Session',
    targetId: null,
    targetName: null,
    ip: '10.0.0.42',
    userAgent: 'Mozilla/5.0 (X11; Linux x86_64)',
    details: JSON.stringify({ logType: 'LOGIN' }),
    ...over,
  };
}

/** Stored rows: at least one per EventType, and the edge cases above. */
export function sampleRows(): StoredEvent[] {
  const rows: StoredEvent[] = [
    stored({}),
    stored({
      eventType: 'Login.Failure',
      outcome: 'failure',
      userId: null,
      username: ADVERSARIAL,
      ip: '2001:db8::7',
      details: JSON.stringify({ logType: 'LOGIN', reason: 'unknown_user' }),
    }),
    stored({ eventType: 'Login.Logout' }),
    stored({
      source: 'LogsAccess',
      eventType: 'Access.Object',
      targetType: 'Document',
      targetId: '17',
      targetName: ADVERSARIAL,
      details: JSON.stringify({ resource: 'document' }),
    }),
    stored({
      source: 'LogsAccess',
      eventType: 'Access.Object',
      severity: 'warning',
      targetType: 'Password',
      targetId: '4',
      targetName: 'db root',
      details: JSON.stringify({ resource: 'password', reveal: true }),
    }),
    stored({
      source: 'LogsDenied',
      eventType: 'Access.Denied',
      outcome: 'denied',
      userId: null,
      username: null,
      targetType: 'IpRange',
      targetName: 'POST /api/auth/login',
      details: JSON.stringify({ reason: 'ip_blocked' }),
    }),
    stored({
      source: 'LogsDenied',
      eventType: 'Access.Denied',
      outcome: 'denied',
      userId: null,
      username: null,
      clientId: 'k_0123456789abcdef',
      targetType: 'SiemKey',
      targetId: 'k_0123456789abcdef',
      targetName: 'Splunk',
      details: JSON.stringify({ reason: 'bad_secret', route: '/api/siem/events' }),
    }),
    stored({
      source: 'LogsAdmin',
      eventType: 'PolicyChange',
      severity: 'critical',
      targetType: 'SiemKey',
      targetId: 'k_0123456789abcdef',
      targetName: ADVERSARIAL,
      details: JSON.stringify({ before: null, after: { status: 'active' } }),
    }),
    stored({
      source: 'LogsAdmin',
      eventType: 'PolicyChange',
      targetType: 'PasswordPolicy',
      targetId: 'passwordPolicy',
      targetName: 'passwordPolicy',
      details: JSON.stringify({ before: { minLength: 8 }, after: { minLength: 12 } }),
    }),
    stored({
      source: 'LogsAdmin',
      eventType: 'AdminAction',
      targetType: 'User',
      targetId: '12',
      targetName: 'new-user',
      details: JSON.stringify({ action: 'user.created', after: { role: 'member' } }),
    }),
    stored({
      source: 'LogsAdmin',
      eventType: 'AdminAction',
      targetType: 'User',
      targetId: '12',
      targetName: 'new-user',
      details: JSON.stringify({
        action: 'user.updated',
        before: { role: 'member' },
        after: { role: 'admin' },
      }),
    }),
    // A legacy row: no type, no address, no user agent, no target.
    stored({
      source: 'LogsAdmin',
      eventType: null,
      outcome: null,
      userId: null,
      username: null,
      ip: null,
      userAgent: null,
      targetType: null,
      details: null,
      legacy: { action: 'settings', message: ADVERSARIAL },
    }),
    stored({
      source: 'LogsSiemPoll',
      eventType: 'Audit.SiemPoll',
      userId: null,
      username: null,
      clientId: 'k_0123456789abcdef',
      targetType: 'SiemFeed',
      targetId: 'k_0123456789abcdef',
      targetName: 'Splunk',
      details: JSON.stringify({ siemKeyId: 'k_0123456789abcdef', eventCount: 5000, hasMore: true }),
    }),
  ];
  return rows.map((r, i) => ({ ...r, id: i + 1, txid: i + 1 }));
}

/** Every sample as the log stores it and as a presenter receives it (Seq = its index). */
export function sampleEvents(): Array<{ event: WireEvent; leaf: string }> {
  return sampleRows().map((row, seq) => {
    const { leaf, eventType } = leafOf(row, seq);
    return { event: JSON.parse(wireOfLeaf(leaf, eventType)) as WireEvent, leaf };
  });
}

/** The sample types cover the registry (a new EventType must get a sample). */
export const SAMPLE_TYPES_COVER_REGISTRY = () =>
  EVENT_TYPE_LIST.every((t) => sampleEvents().some((s) => s.event.EventType === t.type));
