/**
 * Tenants: one portal each, resolved from the request's host name. The embedded setup has a single
 * default tenant that answers every host; further tenants answer their own host names.
 */
import type { Kysely } from 'kysely';
import type { DB } from '../../db/schema.js';
import { AppError } from '../../errors.js';

export interface Tenant {
  id: number;
  name: string;
  isDefault: boolean;
  hosts: string[];
}

export function normalizeHost(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.startsWith('[')) h = h.slice(1, h.indexOf(']') === -1 ? undefined : h.indexOf(']'));
  else if ((h.match(/:/g) ?? []).length === 1) h = h.slice(0, h.indexOf(':'));
  return h.replace(/\.$/, '');
}

export function createTenantStore(db: Kysely<DB>) {
  return {
    /** The tenant for a host name: the one that claims it, or the default tenant. */
    async resolveTenantId(host: string | undefined): Promise<number | null> {
      // One statement: the tenant that claims the host name, else the default tenant.
      // An unclaimed host name reaches the default tenant, also once other tenants exist. Decided, not
      // overlooked: the fallback can only ever reach the default tenant (never one whose host is
      // claimed), with its IP lists and sign-in in force, i.e. nothing a request to its own host name
      // would not reach; refusing it would cut off every setup that reaches the default tenant by IP
      // or `localhost` as soon as a second tenant is created.
      const claimed = db
        .selectFrom('tenant_hosts')
        .select('tenant_id')
        .where('hostname', '=', host ? normalizeHost(host) : null);
      const fallback = db.selectFrom('tenants').select('id').where('is_default', '=', 1).limit(1);
      const row = await db
        .selectNoFrom((eb) => eb.fn.coalesce(claimed, fallback).as('id'))
        .executeTakeFirst();
      return row?.id === null || row?.id === undefined ? null : Number(row.id);
    },

    async defaultTenantId(now: number): Promise<number> {
      const existing = await db
        .selectFrom('tenants')
        .select('id')
        .where('is_default', '=', 1)
        .executeTakeFirst();
      if (existing) return Number(existing.id);
      const row = await db
        .insertInto('tenants')
        .values({ name: 'Default', is_default: 1, created_at: now })
        .returning('id')
        .executeTakeFirstOrThrow();
      return Number(row.id);
    },

    async createTenant(name: string, hosts: string[], now: number): Promise<Tenant> {
      const normalized = hosts.map(normalizeHost).filter((h) => h !== '');
      if (name.trim() === '') throw new AppError('invalid_request', 'name: required');
      if (normalized.length === 0) throw new AppError('invalid_request', 'hosts: at least one host name');
      return db.transaction().execute(async (trx) => {
        const taken = await trx
          .selectFrom('tenant_hosts')
          .select('hostname')
          .where('hostname', 'in', normalized)
          .execute();
        if (taken.length > 0) {
          throw new AppError(
            'conflict',
            `hosts: ${taken.map((t) => t.hostname).join(', ')} already belongs to a tenant`,
          );
        }
        const row = await trx
          .insertInto('tenants')
          .values({ name: name.trim(), is_default: 0, created_at: now })
          .returning('id')
          .executeTakeFirstOrThrow();
        const id = Number(row.id);
        for (const hostname of normalized)
          await trx.insertInto('tenant_hosts').values({ hostname, tenant_id: id }).execute();
        return { id, name: name.trim(), isDefault: false, hosts: normalized };
      });
    },

    async addHost(tenantId: number, host: string): Promise<void> {
      await db
        .insertInto('tenant_hosts')
        .values({ hostname: normalizeHost(host), tenant_id: tenantId })
        .execute();
    },
  };
}

export type TenantStore = ReturnType<typeof createTenantStore>;
