/**
 * A SIEM key's refusals (Access.Denied naming it, SPEC §3) are listed on its page, newest first: an
 * index by key, as the poll history has (logs_siem_poll_client), so the list reads the key's rows and
 * never the tenant's whole table of denials.
 */
import { sql, type Kysely } from 'kysely';
import type { DialectAdapter } from '../dialect.js';

export function migration0006(_d: DialectAdapter) {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await sql.raw('create index logs_denied_client on logs_denied (tenant_id, client_id, id)').execute(db);
    },
  };
}
