/**
 * The differences between the two stores, behind one small interface with named capabilities.
 * Nothing outside src/db asks which database it runs on.
 *
 * The visibility horizon (the rule the feed's exactly-once guarantee rests on):
 * - PostgreSQL: writers commit out of id order, so a reader that pages past a visible row may later
 *   see a row with a smaller id appear. Every event row therefore records its writer's top-level
 *   transaction id (`txid xid8 DEFAULT pg_current_xact_id()`), the feed pages each table by
 *   `(txid, id)`, and it reads only rows with `txid < H`, the horizon. Paging by `(txid, id)` rather
 *   than by `id` also defuses the trap of a sequence value drawn before its transaction had an xid.
 * - SQLite: one writer at a time, so ids are handed out in commit order and anything visible is final;
 *   `txid` is a constant 0 and the horizon is "everything committed".
 *
 * The horizon is per database (SPEC §3). `pg_snapshot_xmin(pg_current_snapshot())` counts the running
 * transactions of the whole server, so an idle-in-transaction session in a neighbour's database would
 * stall every tenant's feed. H is instead, for one snapshot S (`pg_current_snapshot()` of one
 * statement): the smallest xid in S's in-progress list that is not positively placed in another
 * database, or S's xmax when there is none. "Placed in another database" means: a backend of
 * `pg_stat_activity` with another `datid` reports it as its `backend_xid`, or `pg_prepared_xacts` lists
 * it with another `database`. An xid that cannot be placed counts as ours.
 *
 * Why no row below H can ever appear later (the cursor may pass everything below H):
 * - Every xid below S's xmax that is not in S's in-progress list had ended when S was taken: its rows
 *   are visible to S (committed) or never will be (aborted). Every xid assigned later is >= xmax.
 * - An in-progress xid below H is, by construction, placed in another database. A backend is connected
 *   to one database for its whole life and an xid is assigned to one backend (a prepared transaction
 *   keeps its database), so that transaction can never write a row into this database's tables.
 * - Races between S and the catalog read (same statement, read just after S): a backend may end its
 *   transaction and start another in between. Then the catalog shows no backend for the old xid (it
 *   is unplaced: counted as ours, so it only delays) or a newer xid (>= xmax: irrelevant). A catalog
 *   row can never attribute an xid to the wrong database, because the pair (xid, database) never
 *   changes; staleness can only hide a placement, never invent one.
 * - Subtransactions: rows carry the top-level xid (pg_current_xact_id), and S's in-progress list and
 *   `backend_xid` are top-level xids too; a subtransaction's xid is never assigned before its parent's.
 * - Wraparound: `backend_xid` and `pg_prepared_xacts.transaction` are 32-bit; the comparison casts the
 *   snapshot's xid8 down. Two transactions in progress at once are less than 2^31 apart (the server
 *   refuses to go further), so equal low 32 bits mean the same transaction.
 * - H is final once computed: every row below it stays as it is forever, so a horizon read by one
 *   statement may be used by later statements of the same page (they can only see more). Horizons of
 *   later statements can be lower (an xid that became unplaced), never unsafe: callers keep positions
 *   monotonic and never move a position back.
 *
 * The sequencer's own transactions (modules/log/sequencer.ts) never write a source table, so they
 * must not hold the horizon either (each batch would otherwise delay every writer's events behind it).
 * They run on a pool of their own whose connections carry the application name
 * SEQUENCER_APPLICATION_NAME from their startup packet for their whole life (never SET later), so
 * an xid that this database's backend with that name reports is a sequencer's: safe to pass, as the
 * pair (xid, backend) never changes. Nothing else may connect under that name and write events.
 *
 * Privilege: none needed. `pg_stat_activity` shows every session's `datid` and `backend_xid` (and
 * application name) to every role (checked on PostgreSQL 15 with an unprivileged role); without
 * `pg_read_all_stats` another role's `state` and `xact_start` are null, so the horizon monitor
 * (modules/feed/feed-horizon.ts) names such a holder without its state and times it from when it
 * first saw it. Should a server hide `backend_xid`, those transactions are unplaced: safe, only slower.
 */
import { sql, type RawBuilder } from 'kysely';

export type StoreKind = 'sqlite' | 'postgres';

/** The application name of the sequencer's connections (see the top of this file). */
export const SEQUENCER_APPLICATION_NAME = 'itportal-sequencer';

export interface HorizonHolderRow {
  xid: number;
  pid: number | null;
  applicationName: string | null;
  state: string | null;
  database: string | null;
  prepared: boolean;
  ageMs: number | null;
}

/** A column of a bulk insert, with the type its values are sent as. */
export interface BulkColumn {
  name: string;
  type: 'bigint' | 'smallint' | 'text' | 'bytes';
}

export interface DialectAdapter {
  readonly kind: StoreKind;
  /** True when several transactions can hold write locks at once (tests hold some open). */
  readonly concurrentWriters: boolean;
  /**
   * True when a statement may carry a data-modifying CTE (`with u as (update ...) insert ...`): two
   * writes in one statement, atomic without begin and commit (PostgreSQL; SQLite's WITH takes only
   * SELECT).
   */
  readonly dataModifyingCte: boolean;
  /**
   * A statement answering one row `{ horizon }`: this database's visibility horizon now (an xid8 on
   * PostgreSQL; null on SQLite, where everything committed is final).
   */
  readHorizon(): RawBuilder<{ horizon: number | null }>;
  /** Predicate: the row is below a horizon read by readHorizon, and may be passed by a cursor. */
  belowHorizon(horizon: number | null): RawBuilder<boolean>;
  /**
   * A statement answering the transaction that holds the horizon (the oldest one of this database
   * still running, or one that cannot be placed), or no row: xid, pid, application name, state,
   * database, whether it is prepared, and its age in ms (null when the catalog does not show it).
   */
  horizonHolder(): RawBuilder<HorizonHolderRow>;
  /** Predicate: the row's `(txid, id)` position is after the given one. */
  positionAfter(txid: number, id: number): RawBuilder<boolean>;
  /**
   * A FROM item of one row that lets the statement reading it commit without waiting for its WAL
   * flush, for writes whose loss in a crash is harmless (rate-limit counters): one statement instead of
   * begin, set, write, commit (four round trips on every poll). A row with no effect where commits
   * are cheap.
   */
  relaxedCommitRow(): RawBuilder<unknown>;
  /**
   * One INSERT of many rows with one parameter per column, or null where the query builder's
   * multi-row VALUES costs as little. On PostgreSQL a VALUES list has a parameter per cell, and
   * building, sending and parsing 10,000 of them per 1,000 rows cost the sequencer more than the rows'
   * own writing; `unnest` of one array per column sends the same data in a handful of parameters.
   * `rows` are arrays in `columns` order.
   */
  bulkInsert(
    table: string,
    columns: readonly BulkColumn[],
    rows: readonly unknown[][],
  ): RawBuilder<unknown> | null;
  /** DDL fragments for migrations. */
  readonly ddl: {
    idColumn: string;
    bigint: string;
    txidColumn: string;
    now: string;
    /** Binary column type (hashes). */
    bytes: string;
    /** Suffix of a table clustered on its primary key (SQLite: no rowid). */
    clustered: string;
  };
}

export const sqliteAdapter: DialectAdapter = {
  kind: 'sqlite',
  concurrentWriters: false,
  dataModifyingCte: false,
  // Single writer: commit order is id order, so every committed row is final.
  readHorizon: () => sql<{ horizon: number | null }>`select null as horizon`,
  belowHorizon: () => sql<boolean>`1 = 1`,
  horizonHolder: () =>
    sql<HorizonHolderRow>`select 0 as xid, null as pid, null as "applicationName", null as state, null as database, 0 as prepared, null as "ageMs" where 1 = 0`,
  // txid is the constant 0 here, so "after (0, id)" is "id > id", which SQLite finds in the paging index
  // (tenant_id, txid, id) by a range seek. The row value `(txid, id) > (0, id)` it would only narrow
  // to `txid >= 0`, a scan from the table's start on every page (20 ms per 250,000 rows).
  positionAfter: (txid, id) => sql<boolean>`txid = ${txid} and id > ${id}`,
  relaxedCommitRow: () => sql`(select 1 as relaxed)`,
  bulkInsert: () => null,
  ddl: {
    idColumn: 'id integer primary key autoincrement',
    bigint: 'integer',
    txidColumn: 'txid integer not null default 0',
    now: "(cast(unixepoch('subsec') * 1000 as integer))",
    bytes: 'blob',
    clustered: ' without rowid',
  },
};

/**
 * The in-progress xids of snapshot `s.snap` that are not positively another database's (see the top
 * of this file), as `x(xid)`: a FROM item for the statements above.
 */
const OURS_XIP = sql`pg_snapshot_xip(s.snap) as x(xid)
  where not exists (select 1 from pg_stat_activity a
                    where a.backend_xid = x.xid::xid
                      and a.datid <> (select oid from pg_database where datname = current_database()))
    and not exists (select 1 from pg_stat_activity a
                    where a.backend_xid = x.xid::xid
                      and a.datid = (select oid from pg_database where datname = current_database())
                      and a.application_name = ${SEQUENCER_APPLICATION_NAME})
    and not exists (select 1 from pg_prepared_xacts p
                    where p.transaction = x.xid::xid and p.database <> current_database())`;

const PG_ARRAY_TYPES: Record<BulkColumn['type'], string> = {
  bigint: 'bigint[]',
  smallint: 'smallint[]',
  text: 'text[]',
  bytes: 'bytea[]',
};

export const postgresAdapter: DialectAdapter = {
  kind: 'postgres',
  concurrentWriters: true,
  dataModifyingCte: true,
  readHorizon: () =>
    sql<{
      horizon: number | null;
    }>`select least(pg_snapshot_xmax(s.snap), (select min(x.xid) from ${OURS_XIP})) as horizon
      from (select pg_current_snapshot() as snap) s`,
  belowHorizon: (horizon) => sql<boolean>`txid < ${String(horizon ?? 0)}::xid8`,
  horizonHolder: () =>
    sql<HorizonHolderRow>`select x.xid, a.pid, a.application_name as "applicationName", a.state,
        coalesce(a.datname, p.database) as database, p.gid is not null as prepared,
        floor(extract(epoch from (now() - coalesce(a.xact_start, p.prepared))) * 1000)::bigint as "ageMs"
      from (select pg_current_snapshot() as snap) s, lateral (select min(x.xid) as xid from ${OURS_XIP}) x
      left join pg_stat_activity a on a.backend_xid = x.xid::xid
      left join pg_prepared_xacts p on p.transaction = x.xid::xid
      where x.xid is not null`,
  positionAfter: (txid, id) => sql<boolean>`(txid, id) > (${String(txid)}::xid8, ${id}::bigint)`,
  // set_config(…, is_local) lasts until the end of the statement's own (implicit) transaction, whose
  // commit reads the setting.
  relaxedCommitRow: () => sql`(select set_config('synchronous_commit', 'off', true) as relaxed)`,
  bulkInsert: (table, columns, rows) =>
    sql`insert into ${sql.table(table)} (${sql.join(columns.map((c) => sql.ref(c.name)))}) select * from unnest(${sql.join(
      columns.map((c, i) => sql`${rows.map((r) => r[i])}::${sql.raw(PG_ARRAY_TYPES[c.type])}`),
    )})`,
  ddl: {
    idColumn: 'id bigserial primary key',
    bigint: 'bigint',
    txidColumn: 'txid xid8 not null default pg_current_xact_id()',
    now: '(floor(extract(epoch from clock_timestamp()) * 1000)::bigint)',
    bytes: 'bytea',
    clustered: '',
  },
};
