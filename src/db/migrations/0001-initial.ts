/**
 * The schema as it stood before the structured audit tags: tenants, users, sessions, and the legacy
 * admin log (free-text `action`/`message`, no event type, severity or outcome).
 */
import { sql, type Kysely } from 'kysely';
import type { DialectAdapter } from '../dialect.js';

export function migration0001(d: DialectAdapter) {
  return {
    async up(db: Kysely<any>): Promise<void> {
      const { idColumn, bigint } = d.ddl;
      await sql
        .raw(
          `create table tenants (${idColumn}, name text not null, is_default integer not null default 0, created_at ${bigint} not null)`,
        )
        .execute(db);
      await sql
        .raw(
          `create table tenant_hosts (hostname text primary key, tenant_id ${bigint} not null references tenants(id))`,
        )
        .execute(db);
      await sql
        .raw(
          `create table users (${idColumn}, tenant_id ${bigint} not null references tenants(id), username text not null, password_hash text not null, role text not null, created_at ${bigint} not null)`,
        )
        .execute(db);
      await sql.raw('create unique index users_tenant_username on users (tenant_id, username)').execute(db);
      await sql
        .raw(
          `create table sessions (id_hash text primary key, tenant_id ${bigint} not null, user_id ${bigint} not null references users(id), created_at ${bigint} not null, expires_at ${bigint} not null)`,
        )
        .execute(db);
      await sql.raw('create index sessions_tenant_user on sessions (tenant_id, user_id)').execute(db);
      // The legacy admin log: rows written before structured tags existed look like this.
      await sql
        .raw(
          `create table logs_admin (${idColumn}, tenant_id ${bigint} not null, user_id ${bigint}, username text, action text, message text, ip text, created_at ${bigint} not null)`,
        )
        .execute(db);
    },
  };
}
