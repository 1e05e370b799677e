/**
 * The structured event store: five source tables with the same tagged columns, `tenant_id` leading
 * every key, `(tenant_id, txid, id)` as the feed's paging index (see ../dialect.ts for why txid), and
 * `(tenant_id, created_at, id)` for time-range reads. Also SIEM keys, rate-limit windows and the
 * installation's secrets.
 */
import { sql, type Kysely } from 'kysely';
import type { DialectAdapter } from '../dialect.js';

const EVENT_COLUMNS = [
  'event_type text',
  'severity text',
  'outcome text',
  'user_id BIGINT',
  'username text',
  'client_id text',
  'target_type text',
  'target_id text',
  'target_name text',
  'ip text',
  'user_agent text',
  'details text',
];

export function migration0002(d: DialectAdapter) {
  return {
    async up(db: Kysely<any>): Promise<void> {
      const { idColumn, bigint, txidColumn } = d.ddl;
      const columns = EVENT_COLUMNS.map((c) => c.replace('BIGINT', bigint));
      const exec = (statement: string) => sql.raw(statement).execute(db);

      for (const table of ['logs_login', 'logs_access', 'logs_denied', 'logs_siem_poll']) {
        await exec(
          `create table ${table} (${idColumn}, tenant_id ${bigint} not null, ${txidColumn}, created_at ${bigint} not null, ${columns.join(', ')})`,
        );
      }
      // Legacy rows keep their columns; new rows carry the tags. Existing rows get the migrating
      // transaction's xid on PostgreSQL, which is below every later writer's.
      await exec(`alter table logs_admin add column ${txidColumn}`);
      for (const column of columns.filter((c) => !/^(user_id|username|ip) /.test(c))) {
        await exec(`alter table logs_admin add column ${column}`);
      }
      for (const table of ['logs_login', 'logs_access', 'logs_admin', 'logs_denied', 'logs_siem_poll']) {
        await exec(`create index ${table}_feed on ${table} (tenant_id, txid, id)`);
        await exec(`create index ${table}_time on ${table} (tenant_id, created_at, id)`);
      }
      await exec('create index logs_siem_poll_client on logs_siem_poll (tenant_id, client_id, id)');

      await exec(
        `create table siem_keys (id text primary key, tenant_id ${bigint} not null references tenants(id), description text not null, allowed_cidrs text not null, secret_hash text not null, created_by_user_id ${bigint}, created_by_username text, created_at ${bigint} not null, last_used_at ${bigint}, last_used_from text, revoked_at ${bigint}, revoked_by_username text, denied_recorded_at ${bigint}, denied_suppressed integer not null default 0)`,
      );
      await exec('create index siem_keys_tenant on siem_keys (tenant_id, created_at)');
      await exec(
        `create table rate_limits (tenant_id ${bigint} not null, bucket text not null, window_start ${bigint} not null, count integer not null, primary key (tenant_id, bucket))`,
      );
      await exec('create table server_secrets (name text primary key, value text not null)');
    },
  };
}
