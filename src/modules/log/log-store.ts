/**
 * SQL of the sequenced log. Every query names the tenant and the log; rows leave as plain values.
 * Writes take the caller's transaction (the sequencer's, which holds the head's lock).
 */
import type { Kysely, Transaction } from 'kysely';
import { sql } from 'kysely';
import type { Database } from '../../db/connect.js';
import type { BulkColumn } from '../../db/dialect.js';
import type { DB } from '../../db/schema.js';
import type { FeedPosition } from '../feed/feed-cursor.js';
import type { SourceTable } from '../audit/event-types.js';
import { EMPTY_ROOT, type Hash, type NodeKey } from './merkle.js';

export interface LogHead {
  size: number;
  root: Hash;
  frontier: string[];
  positions: Partial<Record<SourceTable, FeedPosition>>;
  watermark: number;
  latestAt: number | null;
}

/** An entry as a page reads it: what its wire form and a version-1 cursor's floors need, no more
 * (every column costs the driver's parsing 5,000 times a page). */
export interface LogEntryRow {
  seq: number;
  eventType: string;
  source: number;
  leaf: string | null;
}

export interface NewEntry {
  seq: number;
  eventType: string;
  createdAt: number;
  watermark: number;
  source: number;
  sourceId: number;
  leaf: string;
  leafHash: Hash;
}

type Executor = Kysely<DB> | Transaction<DB>;

function toHead(row: {
  size: number;
  root: Buffer;
  frontier: string;
  positions: string;
  watermark: number;
  latest_at: number | null;
}): LogHead {
  const positions: LogHead['positions'] = {};
  for (const [name, [txid, id]] of Object.entries(
    JSON.parse(row.positions) as Record<string, [number, number]>,
  )) {
    positions[name as SourceTable] = { txid, id };
  }
  return {
    size: Number(row.size),
    root: Buffer.from(row.root),
    frontier: JSON.parse(row.frontier) as string[],
    positions,
    watermark: Number(row.watermark),
    latestAt: row.latest_at === null ? null : Number(row.latest_at),
  };
}

const HEAD_COLUMNS = ['size', 'root', 'frontier', 'positions', 'watermark', 'latest_at'] as const;

const ENTRY_COLUMNS: readonly BulkColumn[] = [
  { name: 'tenant_id', type: 'bigint' },
  { name: 'log', type: 'smallint' },
  { name: 'seq', type: 'bigint' },
  { name: 'event_type', type: 'text' },
  { name: 'created_at', type: 'bigint' },
  { name: 'watermark', type: 'bigint' },
  { name: 'source', type: 'smallint' },
  { name: 'source_id', type: 'bigint' },
  { name: 'leaf', type: 'text' },
  { name: 'leaf_hash', type: 'bytes' },
];
const NODE_COLUMNS: readonly BulkColumn[] = [
  { name: 'tenant_id', type: 'bigint' },
  { name: 'log', type: 'smallint' },
  { name: 'level', type: 'smallint' },
  { name: 'idx', type: 'bigint' },
  { name: 'hash', type: 'bytes' },
];

export function createLogStore({ db, dialect }: Pick<Database, 'db' | 'dialect'>) {
  return {
    /** The head, or the empty log's when nothing was ever sequenced. */
    async readHead(tenantId: number, log: number, executor: Executor = db): Promise<LogHead> {
      const row = await executor
        .selectFrom('log_heads')
        .select(HEAD_COLUMNS)
        .where('tenant_id', '=', tenantId)
        .where('log', '=', log)
        .executeTakeFirst();
      return row
        ? toHead(row)
        : { size: 0, root: EMPTY_ROOT, frontier: [], positions: {}, watermark: 0, latestAt: null };
    },

    /**
     * Takes the head's row lock for the rest of `trx` (an UPDATE: a row lock on PostgreSQL, the write
     * lock on SQLite, waited for by both), creating the head first when there is none; then reads it.
     */
    async lockHead(trx: Transaction<DB>, tenantId: number, log: number, now: number): Promise<LogHead> {
      const touched = await trx
        .updateTable('log_heads')
        .set({ updated_at: now })
        .where('tenant_id', '=', tenantId)
        .where('log', '=', log)
        .executeTakeFirst();
      if (Number(touched.numUpdatedRows) === 0) {
        await trx
          .insertInto('log_heads')
          .values({
            tenant_id: tenantId,
            log,
            size: 0,
            root: EMPTY_ROOT,
            frontier: '[]',
            positions: '{}',
            watermark: 0,
            latest_at: null,
            updated_at: now,
          })
          .onConflict((oc) => oc.columns(['tenant_id', 'log']).doNothing())
          .execute();
        await trx
          .updateTable('log_heads')
          .set({ updated_at: now })
          .where('tenant_id', '=', tenantId)
          .where('log', '=', log)
          .execute();
      }
      return this.readHead(tenantId, log, trx);
    },

    async append(
      trx: Transaction<DB>,
      tenantId: number,
      log: number,
      entries: NewEntry[],
      nodes: Array<NodeKey & { hash: Hash }>,
      head: LogHead,
      now: number,
    ): Promise<void> {
      for (let i = 0; i < entries.length; i += 1000) {
        const chunk = entries.slice(i, i + 1000);
        const bulk = dialect.bulkInsert(
          'log_entries',
          ENTRY_COLUMNS,
          chunk.map((e) => [
            tenantId,
            log,
            e.seq,
            e.eventType,
            e.createdAt,
            e.watermark,
            e.source,
            e.sourceId,
            e.leaf,
            e.leafHash,
          ]),
        );
        if (bulk) {
          await bulk.execute(trx);
          continue;
        }
        await trx
          .insertInto('log_entries')
          .values(
            chunk.map((e) => ({
              tenant_id: tenantId,
              log,
              seq: e.seq,
              event_type: e.eventType,
              created_at: e.createdAt,
              watermark: e.watermark,
              source: e.source,
              source_id: e.sourceId,
              leaf: e.leaf,
              leaf_hash: e.leafHash,
            })),
          )
          .execute();
      }
      for (let i = 0; i < nodes.length; i += 2000) {
        const chunk = nodes.slice(i, i + 2000);
        const bulk = dialect.bulkInsert(
          'log_nodes',
          NODE_COLUMNS,
          chunk.map((n) => [tenantId, log, n.level, n.index, n.hash]),
        );
        if (bulk) {
          await bulk.execute(trx);
          continue;
        }
        await trx
          .insertInto('log_nodes')
          .values(
            chunk.map((n) => ({ tenant_id: tenantId, log, level: n.level, idx: n.index, hash: n.hash })),
          )
          .execute();
      }
      const positions: Record<string, [number, number]> = {};
      for (const [name, p] of Object.entries(head.positions)) positions[name] = [p.txid, p.id];
      await trx
        .updateTable('log_heads')
        .set({
          size: head.size,
          root: head.root,
          frontier: JSON.stringify(head.frontier),
          positions: JSON.stringify(positions),
          watermark: head.watermark,
          latest_at: head.latestAt,
          updated_at: now,
        })
        .where('tenant_id', '=', tenantId)
        .where('log', '=', log)
        .execute();
    },

    /**
     * Up to `limit` entries with `from <= seq < to`, in Seq order; only the given types when `types`
     * is set (each type's index range read on its own: work in proportion to the matches), only
     * events at or after `since` when set.
     */
    async readEntries(
      tenantId: number,
      log: number,
      range: {
        from: number;
        to: number;
        limit: number;
        types: readonly string[] | null;
        since: number | null;
      },
    ): Promise<LogEntryRow[]> {
      const { from, to, limit, types, since } = range;
      if (from >= to) return [];
      const sinceCond = since === null ? sql`` : sql` and created_at >= ${since}`;
      const select = (typeCond: ReturnType<typeof sql>) =>
        sql`select seq, event_type as "eventType", source, leaf
          from log_entries where tenant_id = ${tenantId} and log = ${log}${typeCond}
          and seq >= ${from} and seq < ${to}${sinceCond} order by seq limit ${limit}`;
      const query =
        types === null
          ? select(sql``)
          : types.length === 1
            ? select(sql` and event_type = ${types[0]}`)
            : sql`select * from (${sql.join(
                types.map((t) => sql`select * from (${select(sql` and event_type = ${t}`)}) as t`),
                sql` union all `,
              )}) as u order by seq limit ${limit}`;
      const { rows } = await query.execute(db);
      return (rows as LogEntryRow[]).map((r) => ({ ...r, seq: Number(r.seq) }));
    },

    /** The hashes of the given perfect nodes (level 0: leaf hashes), in the order asked. */
    async readNodes(tenantId: number, log: number, keys: NodeKey[]): Promise<Hash[]> {
      if (keys.length === 0) return [];
      const leaves = keys.filter((k) => k.level === 0).map((k) => k.index);
      const inner = keys.filter((k) => k.level > 0);
      const found = new Map<string, Hash>();
      if (leaves.length > 0) {
        const rows = await db
          .selectFrom('log_entries')
          .select(['seq', 'leaf_hash'])
          .where('tenant_id', '=', tenantId)
          .where('log', '=', log)
          .where('seq', 'in', leaves)
          .execute();
        for (const r of rows) found.set(`0/${Number(r.seq)}`, Buffer.from(r.leaf_hash));
      }
      if (inner.length > 0) {
        const rows = await db
          .selectFrom('log_nodes')
          .select(['level', 'idx', 'hash'])
          .where('tenant_id', '=', tenantId)
          .where('log', '=', log)
          .where((eb) =>
            eb.or(inner.map((k) => eb.and([eb('level', '=', k.level), eb('idx', '=', k.index)]))),
          )
          .execute();
        for (const r of rows) found.set(`${r.level}/${Number(r.idx)}`, Buffer.from(r.hash));
      }
      return keys.map((k) => {
        const h = found.get(`${k.level}/${k.index}`);
        if (!h) throw new Error(`log node ${k.level}/${k.index} of tenant ${tenantId} log ${log} is missing`);
        return h;
      });
    },

    /** The first Seq whose event is at or after `since` (null: none yet). One probe of the time index. */
    async firstSeqSince(tenantId: number, log: number, since: number): Promise<number | null> {
      const row = await db
        .selectFrom('log_entries')
        .select('seq')
        .where('tenant_id', '=', tenantId)
        .where('log', '=', log)
        .where('watermark', '>=', since)
        .orderBy('watermark')
        .orderBy('seq')
        .limit(1)
        .executeTakeFirst();
      return row ? Number(row.seq) : null;
    },

    /** The Seq of a source row, when it has been sequenced. */
    async seqOfSource(tenantId: number, source: number, sourceId: number): Promise<number | null> {
      const row = await db
        .selectFrom('log_entries')
        .select('seq')
        .where('tenant_id', '=', tenantId)
        .where('source', '=', source)
        .where('source_id', '=', sourceId)
        .executeTakeFirst();
      return row ? Number(row.seq) : null;
    },

    /** created_at of the entry at `seq` (null: no such entry). */
    async timeOf(tenantId: number, log: number, seq: number): Promise<number | null> {
      const row = await db
        .selectFrom('log_entries')
        .select('created_at')
        .where('tenant_id', '=', tenantId)
        .where('log', '=', log)
        .where('seq', '=', seq)
        .executeTakeFirst();
      return row ? Number(row.created_at) : null;
    },
  };
}

export type LogStore = ReturnType<typeof createLogStore>;
