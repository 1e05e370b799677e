/** SQL for SIEM keys and their poll records. Every query names the tenant. */
import type { Kysely, Transaction } from 'kysely';
import type { DB, SiemKeysTable } from '../../db/schema.js';
import type { Selectable } from 'kysely';
import { toStoredEvent, type StoredEvent } from '../feed/feed-store.js';

export type SiemKeyRow = Selectable<SiemKeysTable>;
type Db = Kysely<DB> | Transaction<DB>;

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
    async markUsed(trx: Db, tenantId: number, id: string, at: number, from: string): Promise<void> {
      await trx
        .updateTable('siem_keys')
        .set({ last_used_at: at, last_used_from: from })
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .execute();
    },
    /**
     * Throttle for Access.Denied records of refused polls: true (and the count of refusals suppressed
     * since the last record, reset to 0) when a record is due, at most one per key per window.
     */
    async claimDeniedRecord(
      trx: Db,
      tenantId: number,
      id: string,
      at: number,
      windowMs: number,
    ): Promise<{ due: boolean; suppressed: number }> {
      const key = await trx
        .selectFrom('siem_keys')
        .select(['denied_recorded_at', 'denied_suppressed'])
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .executeTakeFirst();
      if (!key) return { due: false, suppressed: 0 };
      const due = key.denied_recorded_at === null || key.denied_recorded_at <= at - windowMs;
      const result = due
        ? await trx
            .updateTable('siem_keys')
            .set({ denied_recorded_at: at, denied_suppressed: 0 })
            .where('tenant_id', '=', tenantId)
            .where('id', '=', id)
            .where((eb) =>
              key.denied_recorded_at === null
                ? eb('denied_recorded_at', 'is', null)
                : eb('denied_recorded_at', '=', key.denied_recorded_at),
            )
            .executeTakeFirst()
        : await trx
            .updateTable('siem_keys')
            .set((eb) => ({ denied_suppressed: eb('denied_suppressed', '+', 1) }))
            .where('tenant_id', '=', tenantId)
            .where('id', '=', id)
            .executeTakeFirst();
      // Another node claimed the same window first: this refusal counts as suppressed.
      if (due && Number(result.numUpdatedRows) !== 1) return { due: false, suppressed: 0 };
      return { due, suppressed: Number(key.denied_suppressed) };
    },
    async listPolls(tenantId: number, keyId: string, limit: number): Promise<StoredEvent[]> {
      const rows = await db
        .selectFrom('logs_siem_poll')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('client_id', '=', keyId)
        .orderBy('id', 'desc')
        .limit(limit)
        .execute();
      return rows.map((r) => toStoredEvent('LogsSiemPoll', r as unknown as Record<string, unknown>));
    },
  };
}

export type SiemKeyStore = ReturnType<typeof createSiemKeyStore>;
