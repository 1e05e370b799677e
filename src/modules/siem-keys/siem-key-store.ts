/** SQL for SIEM keys and their poll records. Every query names the tenant. */
import { sql } from 'kysely';
import type { Kysely, QueryCreator, Transaction } from 'kysely';
import type { DB, SiemKeysTable } from '../../db/schema.js';
import type { Selectable } from 'kysely';
import { asStoredEvents, storedEventColumns, type StoredEvent } from '../feed/feed-store.js';

export type SiemKeyRow = Selectable<SiemKeysTable>;
type Db = Kysely<DB> | Transaction<DB>;

/** The UPDATE of a key's last use (and of what it has been delivered of the trail), not yet run. */
export function markUsedQuery(
  qc: QueryCreator<DB>,
  tenantId: number,
  id: string,
  at: number,
  from: string,
  trailNextSeq: number | null,
) {
  return qc
    .updateTable('siem_keys')
    .set({ last_used_at: at, last_used_from: from })
    .$if(trailNextSeq !== null, (q) =>
      q.set({
        // Never backwards: a retried older cursor delivers nothing new.
        delivered_next_seq: sql<number>`case when delivered_next_seq is null or delivered_next_seq < ${trailNextSeq} then ${trailNextSeq} else delivered_next_seq end`,
        delivered_at: sql<number>`case when delivered_next_seq is null or delivered_next_seq < ${trailNextSeq} then ${at} else delivered_at end`,
      }),
    )
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id);
}

/**
 * A key's refusals (Access.Denied naming it), newest first: read by the index logs_denied_client
 * (migration 0006), never by a scan of the tenant's denials (test/siem-keys.test.ts checks the plan).
 */
export function refusalsQuery(db: Kysely<DB>, tenantId: number, keyId: string, limit: number) {
  return db
    .selectFrom('logs_denied')
    .select(storedEventColumns('LogsDenied') as never[])
    .where('tenant_id', '=', tenantId)
    .where('client_id', '=', keyId)
    .where('target_type', '=', 'SiemKey')
    .orderBy('id', 'desc')
    .limit(limit);
}

export function createSiemKeyStore(db: Kysely<DB>) {
  return {
    async insert(trx: Db, row: SiemKeyRow): Promise<void> {
      await trx.insertInto('siem_keys').values(row).execute();
    },
    async find(tenantId: number, id: string, trx: Db = db): Promise<SiemKeyRow | undefined> {
      return trx
        .selectFrom('siem_keys')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .executeTakeFirst();
    },
    async list(tenantId: number): Promise<SiemKeyRow[]> {
      return db
        .selectFrom('siem_keys')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .orderBy('created_at', 'desc')
        .orderBy('id')
        .execute();
    },
    /** Marks the key revoked unless it already is; true when this call revoked it. */
    async revoke(trx: Db, tenantId: number, id: string, at: number, by: string | null): Promise<boolean> {
      const result = await trx
        .updateTable('siem_keys')
        .set({ revoked_at: at, revoked_by_username: by })
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async markUsed(
      trx: Db,
      tenantId: number,
      id: string,
      at: number,
      from: string,
      /** The trail's next Seq after this poll (null: the poll read the poll log). */
      trailNextSeq: number | null = null,
    ): Promise<void> {
      await markUsedQuery(trx, tenantId, id, at, from, trailNextSeq).execute();
    },
    /** A key's poll records, newest first; `before` (a poll id) pages on by keyset. */
    async listPolls(tenantId: number, keyId: string, limit: number, before?: number): Promise<StoredEvent[]> {
      const rows = await db
        .selectFrom('logs_siem_poll')
        .select(storedEventColumns('LogsSiemPoll') as never[])
        .where('tenant_id', '=', tenantId)
        .where('client_id', '=', keyId)
        .$if(before !== undefined, (q) => q.where('id', '<', before!))
        .orderBy('id', 'desc')
        .limit(limit)
        .execute();
      return asStoredEvents('LogsSiemPoll', rows);
    },
    /** The Details of a key's poll records with id above `after`, oldest first, `limit` at a time. */
    async pollDetailsAfter(
      tenantId: number,
      keyId: string,
      after: number,
      limit: number,
    ): Promise<{ id: number; created_at: number; details: string | null }[]> {
      const rows = await db
        .selectFrom('logs_siem_poll')
        .select(['id', 'created_at', 'details'])
        .where('tenant_id', '=', tenantId)
        .where('client_id', '=', keyId)
        .where('id', '>', after)
        .orderBy('id', 'asc')
        .limit(limit)
        .execute();
      return rows.map((r) => ({
        id: Number(r.id),
        created_at: Number(r.created_at),
        details: r.details as string | null,
      }));
    },
    /** Refusals (Access.Denied) that name this key, newest first. */
    async listRefusals(tenantId: number, keyId: string, limit: number): Promise<StoredEvent[]> {
      const rows = await refusalsQuery(db, tenantId, keyId, limit).execute();
      return asStoredEvents('LogsDenied', rows);
    },
  };
}

export type SiemKeyStore = ReturnType<typeof createSiemKeyStore>;
