/**
 * Writing events. `appendEvent` takes the caller's transaction, so the event and the change it
 * describes commit together or not at all: every route that changes something calls it inside the
 * same `db.transaction()` as the change.
 */
import type { Kysely, QueryCreator, Transaction } from 'kysely';
import type { DB } from '../../db/schema.js';
import { eventTypeInfo, tableOf, type EventType, type Outcome, type Severity } from './event-types.js';

/** Who did it: a plain actor, never an HTTP request. */
export interface Actor {
  userId: number | null;
  username: string | null;
  clientId?: string | null;
  ip: string | null;
  userAgent: string | null;
}

export interface NewEvent {
  eventType: EventType;
  outcome: Outcome;
  /** Defaults to the type's registered severity. */
  severity?: Severity;
  actor: Actor;
  target?: { type: string; id?: string | number | null; name?: string | null };
  details?: Record<string, unknown>;
}

/**
 * Keys that must never reach an event, however a caller builds its details, compared without case,
 * `_` or `-` (so `secret_hash`, `currentPassword` and `csrf-token` are caught alike): these names, and
 * any name ending in token, secret, hash or password. Details are built by our own code from named
 * fields; this is the net under it, not the only guard.
 */
const SECRET_NAMES = new Set([
  'password',
  'passwd',
  'totp',
  'totpcode',
  'sessionid',
  'session',
  'apikey',
  'key',
  'plaintext',
  'cookie',
  'authorization',
  'credential',
  'ciphertext',
  'secretciphertext',
]);
const SECRET_SUFFIX = /(token|secret|hash|password|ciphertext)$/;

export function isSecretName(name: string): boolean {
  const n = name.toLowerCase().replace(/[_-]/g, '');
  return SECRET_NAMES.has(n) || SECRET_SUFFIX.test(n);
}

export function scrubDetails(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(scrubDetails);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (!isSecretName(k)) out[k] = scrubDetails(v);
    }
    return out;
  }
  return value;
}

const MAX_USER_AGENT = 512;

function toRow(tenantId: number, event: NewEvent, now: number) {
  const info = eventTypeInfo(event.eventType);
  return {
    table: tableOf(info.source),
    row: {
      tenant_id: tenantId,
      created_at: now,
      event_type: event.eventType,
      severity: event.severity ?? info.defaultSeverity,
      outcome: event.outcome,
      user_id: event.actor.userId,
      username: event.actor.username,
      client_id: event.actor.clientId ?? null,
      target_type: event.target?.type ?? null,
      target_id: event.target?.id === undefined || event.target.id === null ? null : String(event.target.id),
      target_name: event.target?.name ?? null,
      ip: event.actor.ip,
      user_agent: event.actor.userAgent ? event.actor.userAgent.slice(0, MAX_USER_AGENT) : null,
      details: event.details ? JSON.stringify(scrubDetails(event.details)) : null,
    },
  };
}

/**
 * Many events at once (bulk loads such as `itportal demo`): grouped by source table, one multi-row
 * INSERT per group and chunk, in the caller's transaction. Each table's rows keep the given order.
 */
export async function appendEvents(
  trx: Kysely<DB> | Transaction<DB>,
  tenantId: number,
  events: ReadonlyArray<{ event: NewEvent; at: number }>,
): Promise<void> {
  const groups = new Map<string, ReturnType<typeof toRow>['row'][]>();
  for (const { event, at } of events) {
    const { table, row } = toRow(tenantId, event, at);
    let group = groups.get(table);
    if (!group) groups.set(table, (group = []));
    group.push(row);
  }
  for (const [table, rows] of groups) {
    // 15 parameters a row: 1,000 rows stay under both stores' bound-parameter limits.
    for (let i = 0; i < rows.length; i += 1000) {
      await trx
        .insertInto(table as ReturnType<typeof tableOf>)
        .values(rows.slice(i, i + 1000))
        .execute();
    }
  }
}

export async function appendEvent(
  trx: Kysely<DB> | Transaction<DB>,
  tenantId: number,
  event: NewEvent,
  now: number,
): Promise<void> {
  await eventInsert(trx, tenantId, event, now).execute();
}

/** The INSERT of one event, not yet run (for a statement that writes something else with it). */
export function eventInsert(qc: QueryCreator<DB>, tenantId: number, event: NewEvent, now: number) {
  const { table, row } = toRow(tenantId, event, now);
  return qc.insertInto(table).values(row);
}
