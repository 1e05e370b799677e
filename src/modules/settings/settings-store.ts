/** Per-tenant settings, one JSON document per name. Every query names the tenant. */
import type { Kysely, Transaction } from 'kysely';
import type { DB } from '../../db/schema.js';

type Db = Kysely<DB> | Transaction<DB>;

export function createSettingsStore(db: Kysely<DB>) {
  return {
    async get(tenantId: number, name: string, trx: Db = db): Promise<unknown> {
      const row = await trx
        .selectFrom('tenant_settings')
        .select('value')
        .where('tenant_id', '=', tenantId)
        .where('name', '=', name)
        .executeTakeFirst();
      return row ? (JSON.parse(row.value) as unknown) : undefined;
    },
    async put(trx: Db, tenantId: number, name: string, value: unknown, now: number): Promise<void> {
      const json = JSON.stringify(value);
      await trx
        .insertInto('tenant_settings')
        .values({ tenant_id: tenantId, name, value: json, updated_at: now })
        .onConflict((oc) => oc.columns(['tenant_id', 'name']).doUpdateSet({ value: json, updated_at: now }))
        .execute();
    },
  };
}

export type SettingsStore = ReturnType<typeof createSettingsStore>;
