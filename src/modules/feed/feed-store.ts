/**
 * Reads of the event store for the feed. Every query names the tenant, pages one source table by its
 * `(txid, id)` position, and stops at a visibility horizon read once per page (db/dialect.ts).
 * Rows leave this module as StoredEvent, never raw.
 */
import { sql, type Kysely } from 'kysely';
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

/** A visibility horizon as the dialect reads it: every row below it is final (db/dialect.ts). */
export interface Horizon {
  txid: number | null;
}

export interface FeedStore {
  /** This database's visibility horizon now; valid for every later read (it only ever rises). */
  readHorizon(): Promise<Horizon>;
  /** Up to `limit` rows of one table after `after`, in position order, below `horizon`. */
  readAfter(
    tenantId: number,
    source: SourceTable,
    after: FeedPosition,
    limit: number,
    horizon: Horizon,
  ): Promise<StoredEvent[]>;
  /**
   * The position of the table's last row below `horizon` (null: no such row). A cursor may jump to
   * it: every row at or before it is final.
   */
  lastFinalPosition(tenantId: number, source: SourceTable, horizon: Horizon): Promise<FeedPosition | null>;
  /**
   * The position just before the table's first row (in position order) among the final rows at or
   * after `since`, or null when there is none. Work: the time index's range from `since` on, never
   * the rows before it.
   */
  firstFinalPositionSince(
    tenantId: number,
    source: SourceTable,
    since: number,
    horizon: Horizon,
  ): Promise<FeedPosition | null>;
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
/** The columns to select for StoredEvents of a table. */
export function storedEventColumns(source: SourceTable): string[] {
  return source === 'LogsAdmin' ? [...FEED_COLUMNS, 'action', 'message'] : FEED_COLUMNS;
}

/** Rows selected with storedEventColumns, completed in place into StoredEvents. */
export function asStoredEvents(source: SourceTable, rows: unknown[]): StoredEvent[] {
  const events = rows as Array<StoredEvent & { action?: string | null; message?: string | null }>;
  for (const e of events) {
    e.source = source;
    if (source === 'LogsAdmin') e.legacy = { action: e.action ?? null, message: e.message ?? null };
  }
  return events;
}

export function createFeedStore({ db, dialect }: Pick<Database, 'db' | 'dialect'>): FeedStore {
  const untyped = db as unknown as Kysely<Record<EventTableName, Row>>;
  return {
    async readHorizon() {
      const { rows } = await dialect.readHorizon().execute(db);
      return { txid: rows[0]?.horizon ?? null };
    },
    async lastFinalPosition(tenantId, source, horizon) {
      const row = await untyped
        .selectFrom(tableOf(source))
        .select(['txid', 'id'] as never[])
        .where('tenant_id' as never, '=', tenantId as never)
        .where(dialect.belowHorizon(horizon.txid))
        .orderBy('txid' as never, 'desc')
        .orderBy('id' as never, 'desc')
        .limit(1)
        .executeTakeFirst();
      return row ? (row as FeedPosition) : null;
    },
    async firstFinalPositionSince(tenantId, source, since, horizon) {
      // Materialized, so that the range is found by the time index (tenant_id, created_at, id): the
      // planner must not walk the paging index from the table's start looking for late rows.
      const { rows } = await sql<FeedPosition>`with r as materialized (
          select txid, id from ${sql.table(tableOf(source))}
          where tenant_id = ${tenantId} and created_at >= ${since} and ${dialect.belowHorizon(horizon.txid)})
        select txid, id from r order by txid, id limit 1`.execute(db);
      const first = rows[0];
      return first ? { txid: first.txid, id: first.id - 1 } : null;
    },
    async readAfter(tenantId, source, after, limit, horizon) {
      const table = tableOf(source);
      const rows = await untyped
        .selectFrom(table)
        .select(storedEventColumns(source) as never[])
        .where('tenant_id' as never, '=', tenantId as never)
        .where(dialect.positionAfter(after.txid, after.id))
        .where(dialect.belowHorizon(horizon.txid))
        .orderBy('txid' as never)
        .orderBy('id' as never)
        .limit(limit)
        .execute();
      return asStoredEvents(source, rows);
    },
  };
}
