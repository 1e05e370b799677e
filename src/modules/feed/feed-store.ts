/**
 * Reads of the event store for the feed. Every query names the tenant, pages one source table by its
 * `(txid, id)` position, and stops at the dialect's visibility horizon (db/dialect.ts).
 * Rows leave this module as StoredEvent, never raw.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../db/connect.js';
import type { EventTableName } from '../../db/schema.js';
import { tableOf, type SourceTable } from '../audit/event-types.js';
import type { FeedPosition } from './feed-cursor.js';

export interface StoredEvent {
  source: SourceTable;
  id: number;
  txid: number;
  createdAt: number;
  eventType: string | null;
  severity: string | null;
  outcome: string | null;
  userId: number | null;
  username: string | null;
  clientId: string | null;
  targetType: string | null;
  targetId: string | null;
  targetName: string | null;
  ip: string | null;
  userAgent: string | null;
  details: string | null;
  /** Legacy LogsAdmin columns (rows from before the structured tags). */
  legacy?: { action: string | null; message: string | null };
}

type Row = Record<string, unknown>;

export interface FeedStore {
  /**
   * Up to `limit` rows of one table after `after`, in position order, below the visibility horizon.
   * `narrow` reads only position, time and type (for tables the filter skips).
   */
  readAfter(
    tenantId: number,
    source: SourceTable,
    after: FeedPosition,
    limit: number,
    narrow: boolean,
  ): Promise<StoredEvent[]>;
}

/** Reads select straight into StoredEvent's names, so a row needs no copying (both drivers
 * return numbers for ids and times: better-sqlite3 natively, pg through connect.ts's type parsers). */
const FEED_COLUMNS = [
  'id',
  'txid',
  'created_at as createdAt',
  'event_type as eventType',
  'severity',
  'outcome',
  'user_id as userId',
  'username',
  'client_id as clientId',
  'target_type as targetType',
  'target_id as targetId',
  'target_name as targetName',
  'ip',
  'user_agent as userAgent',
  'details',
];
const NARROW_COLUMNS = ['id', 'txid', 'created_at as createdAt', 'event_type as eventType'];

/** The columns to select for StoredEvents of a table (`narrow`: position, time and type only). */
export function storedEventColumns(source: SourceTable, narrow = false): string[] {
  if (narrow) return NARROW_COLUMNS;
  return source === 'LogsAdmin' ? [...FEED_COLUMNS, 'action', 'message'] : FEED_COLUMNS;
}

/** Rows selected with storedEventColumns, completed in place into StoredEvents. */
export function asStoredEvents(source: SourceTable, rows: unknown[], narrow = false): StoredEvent[] {
  const events = rows as Array<StoredEvent & { action?: string | null; message?: string | null }>;
  for (const e of events) {
    e.source = source;
    if (source === 'LogsAdmin' && !narrow)
      e.legacy = { action: e.action ?? null, message: e.message ?? null };
  }
  return events;
}

export function createFeedStore({ db, dialect }: Pick<Database, 'db' | 'dialect'>): FeedStore {
  const untyped = db as unknown as Kysely<Record<EventTableName, Row>>;
  return {
    async readAfter(tenantId, source, after, limit, narrow) {
      const table = tableOf(source);
      const rows = await untyped
        .selectFrom(table)
        .select(storedEventColumns(source, narrow) as never[])
        .where('tenant_id' as never, '=', tenantId as never)
        .where(dialect.positionAfter(after.txid, after.id))
        .where(dialect.belowVisibilityHorizon())
        .orderBy('txid' as never)
        .orderBy('id' as never)
        .limit(limit)
        .execute();
      return asStoredEvents(source, rows, narrow);
    },
  };
}
