/**
 * The one function that turns a stored event into the wire envelope (SPEC §2). Category, Controls and
 * default severity come from the registry at read time. A future wire format (CEF, OCSF, ...) is one
 * more presenter beside this one, over the same StoredEvent.
 */
import {
  EVENT_TYPES,
  LEGACY_EVENT_TYPE,
  controlsOf,
  eventTypeInfo,
  type Outcome,
  type Severity,
} from '../audit/event-types.js';
import type { EventEnvelope } from './feed-schema.js';
import type { StoredEvent } from './feed-store.js';

export type { EventEnvelope };

/** The type a stored row surfaces as: its own, or AdminAction for a legacy row. */
export function effectiveEventType(e: Pick<StoredEvent, 'eventType'>): string {
  return e.eventType && EVENT_TYPES.has(e.eventType) ? e.eventType : LEGACY_EVENT_TYPE;
}

function parseDetails(raw: string | null): Record<string, unknown> {
  if (!raw) return {};
  try {
    const value: unknown = JSON.parse(raw);
    return value && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
}

function legacyDetails(e: StoredEvent): Record<string, unknown> {
  return {
    action: e.legacy?.action ?? null,
    message: e.legacy?.message ?? null,
    userId: e.userId,
    username: e.username,
    ip: e.ip,
    createdAt: new Date(e.createdAt).toISOString(),
    legacy: true,
  };
}

export function presentEvent(e: StoredEvent): EventEnvelope {
  const legacy = e.eventType === null;
  const type = effectiveEventType(e);
  const info = eventTypeInfo(type);
  return {
    Id: `${e.source}:${e.id}`,
    Timestamp: new Date(e.createdAt).toISOString(),
    EventType: type,
    Category: info.category,
    Severity: legacy ? 'info' : ((e.severity as Severity | null) ?? info.defaultSeverity),
    Outcome: legacy ? 'success' : ((e.outcome as Outcome | null) ?? 'success'),
    SourceTable: e.source,
    Actor: { UserId: e.userId, Username: e.username, ClientId: e.clientId },
    Target: { Type: e.targetType, Id: e.targetId, Name: e.targetName },
    Ip: e.ip,
    UserAgent: e.userAgent,
    Controls: [...controlsOf(type, e.targetType)],
    Details: legacy ? legacyDetails(e) : parseDetails(e.details),
  };
}
