/**
 * The portal's own data: companies, documents, stored credentials (secret encrypted at rest), per-tenant
 * settings (one JSON document per setting), and the user columns for lockout and TOTP.
 */
import { sql, type Kysely } from 'kysely';
import type { DialectAdapter } from '../dialect.js';

export function migration0003(d: DialectAdapter) {
  return {
    async up(db: Kysely<any>): Promise<void> {
      const { idColumn, bigint } = d.ddl;
      const exec = (statement: string) => sql.raw(statement).execute(db);
      await exec(
        `create table companies (${idColumn}, tenant_id ${bigint} not null references tenants(id), name text not null, created_by ${bigint}, created_at ${bigint} not null)`,
      );
      await exec('create index companies_tenant on companies (tenant_id, id)');
      await exec(
        `create table documents (${idColumn}, tenant_id ${bigint} not null references tenants(id), company_id ${bigint} not null references companies(id), title text not null, body text not null, created_by ${bigint}, created_at ${bigint} not null)`,
      );
      await exec('create index documents_tenant on documents (tenant_id, id)');
      await exec(
        `create table credentials (${idColumn}, tenant_id ${bigint} not null references tenants(id), company_id ${bigint} not null references companies(id), name text not null, username text not null, url text, secret_ciphertext text not null, created_by ${bigint}, created_at ${bigint} not null)`,
      );
      await exec('create index credentials_tenant on credentials (tenant_id, id)');
      await exec(
        `create table tenant_settings (tenant_id ${bigint} not null references tenants(id), name text not null, value text not null, updated_at ${bigint} not null, primary key (tenant_id, name))`,
      );
      await exec('alter table users add column failed_logins integer not null default 0');
      await exec(`alter table users add column locked_until ${bigint}`);
      await exec('alter table users add column totp_secret text');
      await exec('alter table users add column totp_pending_secret text');
    },
  };
}
