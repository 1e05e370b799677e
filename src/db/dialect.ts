/**
 * The differences between the two stores, behind one small interface with named capabilities.
 * Nothing outside src/db asks which database it runs on.
 *
 * The visibility horizon (the rule the feed's exactly-once guarantee rests on):
 * - PostgreSQL: writers commit out of id order, so a reader that pages past a visible row may later
 *   see a row with a smaller id appear. Every event row therefore records its writer's transaction id
 *   (`txid xid8 DEFAULT pg_current_xact_id()`), the feed pages each table by `(txid, id)`, and it reads
 *   only rows with `txid < pg_snapshot_xmin(pg_current_snapshot())`: every transaction below that
 *   horizon has ended, and every transaction still to write gets an xid at or above it, so no row can
 *   ever appear behind a cursor position. Paging by `(txid, id)` rather than by `id` also defuses the
 *   trap of a sequence value drawn before its transaction had an xid.
 * - SQLite: one writer at a time, so ids are handed out in commit order and anything visible is final;
 *   `txid` is a constant 0 and the horizon is "everything committed".
 */
import { sql, type RawBuilder } from 'kysely';

export type StoreKind = 'sqlite' | 'postgres';

export interface DialectAdapter {
  readonly kind: StoreKind;
  /** True when several transactions can hold write locks at once (tests hold some open). */
  readonly concurrentWriters: boolean;
  /** Predicate: the row is below the visibility horizon and may be passed by a cursor. */
  belowVisibilityHorizon(): RawBuilder<boolean>;
  /** Predicate: the row's `(txid, id)` position is after the given one. */
  positionAfter(txid: number, id: number): RawBuilder<boolean>;
  /**
   * A statement that lets the current transaction commit without waiting for its WAL flush, for
   * writes whose loss in a crash is harmless (rate-limit counters); null where commits are cheap.
   */
  relaxedCommit(): RawBuilder<unknown> | null;
  /** DDL fragments for migrations. */
  readonly ddl: {
    idColumn: string;
    bigint: string;
    txidColumn: string;
    now: string;
  };
}

export const sqliteAdapter: DialectAdapter = {
  kind: 'sqlite',
  concurrentWriters: false,
  // Single writer: commit order is id order, so every committed row is final.
  belowVisibilityHorizon: () => sql<boolean>`1 = 1`,
  positionAfter: (txid, id) => sql<boolean>`(txid, id) > (${txid}, ${id})`,
  relaxedCommit: () => null,
  ddl: {
    idColumn: 'id integer primary key autoincrement',
    bigint: 'integer',
    txidColumn: 'txid integer not null default 0',
    now: "(cast(unixepoch('subsec') * 1000 as integer))",
  },
};

export const postgresAdapter: DialectAdapter = {
  kind: 'postgres',
  concurrentWriters: true,
  belowVisibilityHorizon: () => sql<boolean>`txid < pg_snapshot_xmin(pg_current_snapshot())`,
  positionAfter: (txid, id) => sql<boolean>`(txid, id) > (${String(txid)}::xid8, ${id}::bigint)`,
  relaxedCommit: () => sql`set local synchronous_commit to off`,
  ddl: {
    idColumn: 'id bigserial primary key',
    bigint: 'bigint',
    txidColumn: 'txid xid8 not null default pg_current_xact_id()',
    now: '(floor(extract(epoch from clock_timestamp()) * 1000)::bigint)',
  },
};
